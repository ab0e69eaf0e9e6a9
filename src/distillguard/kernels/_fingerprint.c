/* Template fingerprints for small batches, in C: the online decision service's hot path.
 *
 * This computes exactly what kernels/templates.py's NumPy path computes (same tokens, text hashes,
 * shingles and band keys), one text at a time, without NumPy's fixed cost per call; that cost is
 * most of a micro-batch's time online. The MinHash is rensa's RMinHash, algorithm version 2 (a
 * three-round bucket sketch with per-coordinate fallback minima), re-implemented from its
 * reference definition; templates.py only uses this module when rensa reports that version, and
 * checks it against rensa on a sample at import. tests/test_templates_native.py compares the two
 * paths on generated and corpus texts.
 *
 * Inputs are texts already passed through templates._prepare (URLs, e-mails and quoted spans
 * replaced; the regular-expression half of normalisation stays in Python). The GIL is held
 * throughout: calls are short (tens of microseconds per text).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef uint64_t u64;
typedef uint32_t u32;
typedef uint8_t u8;

/* Character classes and token groups: the values of templates._SEP ... and templates._G_SEP ... */
enum { C_SEP, C_WORD, C_SPLIT, C_DIGIT, C_UPPER, C_LOWER, C_SPACE, C_NEWLINE, C_COMMA, C_DOT, C_COLON };
enum { G_SEP, G_WORD, G_SPLIT, G_DIGIT, G_NAME };
static const u8 GROUP[11] = {G_SEP, G_WORD, G_SPLIT, G_DIGIT, G_WORD, G_WORD, G_SEP, G_SEP, G_SEP, G_SEP, G_SEP};

#define N_PARTS 4
#define MAX_BANDS 64
#define MAX_PERM 256
#define PAD 2 /* the "\n\n" padding templates.py puts around each chunk */
enum { P_SYSTEM, P_HEAD, P_TAIL, P_BODY };

/* rensa RMinHash v2 constants. */
#define RANK_BITS 2
#define FRACTION_BITS (32 - RANK_BITS)
#define BUCKET_ROUNDS 3
#define FALLBACK ((u32)BUCKET_ROUNDS << FRACTION_BITS)
static const u64 BUCKET_DOMAIN = 0x6a09e667f3bcc909ULL;
static const u64 ROUND_DOMAIN = 0x3c6ef372fe94f82bULL;
static const u64 FALLBACK_DOMAIN = 0xbb67ae8584caa73bULL;

typedef struct {
    int bands, rows, num_perm;
    u64 salt;
    u64 band_seed[MAX_BANDS];
    u64 perm_a[MAX_PERM], perm_b[MAX_PERM];
} Part;

static struct {
    int ready;
    Py_buffer cls, lower; /* per code point: class (uint8) and lower-case code point (uint64) */
    u64 base, token_salt, pos_salt, len_mul, num_hash, name_hash;
    u64 shingle_mul[3], shingle_salt[3];
    int head_tokens, tail_tokens, min_line_tokens;
    Part part[N_PARTS];
} cfg;

static inline u64 fmix(u64 x) {
    x ^= x >> 33;
    x *= 0xFF51AFD7ED558CCDULL;
    x ^= x >> 33;
    x *= 0xC4CEB9FE1A85EC53ULL;
    x ^= x >> 33;
    return x;
}

static inline u64 splitmix64(u64 x) {
    u64 z = x + 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static inline u64 rotl(u64 x, int k) { return (x << k) | (x >> (64 - k)); }

/* rensa's permutations: Xoshiro256++ seeded from a u64 through SplitMix64, (a | 1, b) per pair. */
static void build_permutations(int n, u64 seed, u64 *a, u64 *b) {
    u64 s[4], state = seed;
    for (int i = 0; i < 4; i++) {
        state += 0x9E3779B97F4A7C15ULL;
        u64 z = state;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        s[i] = z ^ (z >> 31);
    }
    for (int i = 0; i < 2 * n; i++) {
        u64 r = rotl(s[0] + s[3], 23) + s[0];
        u64 t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = rotl(s[3], 45);
        if (i % 2 == 0)
            a[i / 2] = r | 1;
        else
            b[i / 2] = r;
    }
}

/* rensa RMinHash v2 of a multiset of 64-bit hashes into vals[num_perm]. */
static void minhash(const Part *p, const u64 *h, Py_ssize_t n, u32 *vals) {
    const u32 count = (u32)p->num_perm;
    const u32 threshold = (u32)(((u64)1 << 32) % count);
    for (u32 i = 0; i < count; i++) vals[i] = UINT32_MAX;
    for (u32 round = 0; round < BUCKET_ROUNDS; round++) {
        const u64 seed = p->perm_b[0] ^ BUCKET_DOMAIN ^ ((u64)round * ROUND_DOMAIN);
        const u32 prefix = round << FRACTION_BITS;
        for (Py_ssize_t j = 0; j < n; j++) {
            u64 mixed = splitmix64(h[j] ^ seed), cand = mixed, product;
            for (;;) {
                product = (cand & 0xFFFFFFFFULL) * count;
                if ((u32)product >= threshold) break;
                cand = splitmix64(cand);
            }
            u32 bucket = (u32)(product >> 32);
            u32 rank = prefix | (u32)(mixed >> (32 + RANK_BITS));
            if (rank < vals[bucket]) vals[bucket] = rank;
        }
    }
    /* Coordinates no round reached take the fallback minimum; the others already hold a smaller
       rank than any fallback value, so skipping them changes nothing. */
    const u64 fseed = p->perm_a[0] ^ FALLBACK_DOMAIN;
    for (u32 i = 0; i < count; i++) {
        if (vals[i] < FALLBACK) continue;
        for (Py_ssize_t j = 0; j < n; j++) {
            u64 fh = splitmix64(h[j] ^ fseed);
            u32 rank = FALLBACK | (u32)((p->perm_a[i] * fh + p->perm_b[i]) >> (32 + RANK_BITS));
            if (rank < vals[i]) vals[i] = rank;
        }
    }
}

/* Tokens of one text: hashes and line-break flags. */
typedef struct {
    u64 *hash;
    u8 *line_break;
    Py_ssize_t n;
} Tokens;

static inline u64 ngram(const u64 *h, int width) {
    u64 acc = 0;
    for (int j = 0; j < width; j++) acc += h[j] * cfg.shingle_mul[j];
    return fmix(acc + cfg.shingle_salt[width - 1]);
}

/* Tokenise one prepared text exactly as templates._tokenise_chunk does (see there for the rules). */
static int tokenise(PyObject *text, Tokens *out) {
    const Py_ssize_t len = PyUnicode_GET_LENGTH(text);
    const int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    const u8 *cls_of = (const u8 *)cfg.cls.buf;
    const u64 *lower_of = (const u64 *)cfg.lower.buf;
    const Py_ssize_t total = len + 2 * PAD + 1;
    u8 *c = malloc(total), *g = malloc(total);
    Py_ssize_t *up = NULL, *end = NULL;
    out->hash = malloc(sizeof(u64) * (len + 1));
    out->line_break = malloc(len + 1);
    out->n = 0;
    if (!c || !g || !out->hash || !out->line_break) goto nomem;
    /* c[PAD + i] is the class of character i; the padding is newlines, as between chunk texts. */
    for (Py_ssize_t i = 0; i < PAD; i++) c[i] = c[total - 1 - i] = C_NEWLINE;
    c[total - PAD - 1] = C_NEWLINE;
    for (Py_ssize_t i = 0; i < len; i++) c[PAD + i] = cls_of[PyUnicode_READ(kind, data, i)];
    for (Py_ssize_t i = 0; i < total; i++) g[i] = GROUP[c[i]];

    /* Names: a capitalised word ("[A-Z][a-z]{2,}") after "[a-z,;:] ", chained by single spaces. */
    Py_ssize_t n_up = 0, cap = 0;
    for (Py_ssize_t i = PAD; i < PAD + len; i++) {
        if (c[i] != C_UPPER || c[i + 1] != C_LOWER || c[i + 2] != C_LOWER) continue;
        if (n_up == cap) {
            cap = cap ? 2 * cap : 16;
            Py_ssize_t *nu = realloc(up, sizeof(Py_ssize_t) * cap), *ne;
            if (!nu) goto nomem;
            up = nu;
            ne = realloc(end, sizeof(Py_ssize_t) * cap);
            if (!ne) goto nomem;
            end = ne;
        }
        Py_ssize_t p = i + 3;
        while (c[p] == C_LOWER) p++;
        up[n_up] = i;
        end[n_up] = p;
        n_up++;
        i = p - 1;
    }
    for (Py_ssize_t first = 0; first < n_up;) {
        Py_ssize_t last = first;
        while (last + 1 < n_up && up[last + 1] == end[last] + 1 && c[end[last]] == C_SPACE) last++;
        const u8 behind = c[up[first] - 2];
        const int fits = c[up[first] - 1] == C_SPACE && (behind == C_LOWER || behind == C_COMMA || behind == C_COLON);
        const Py_ssize_t begin = fits ? first : first + 1;
        if (begin <= last)
            for (Py_ssize_t p = up[begin]; p < end[last]; p++) g[p] = G_NAME;
        first = last + 1;
    }

    /* Tokens: maximal runs of one group (a SPLIT character alone), numbers merged as text._NUM. */
    int newline = 1, prev_digit = 0, prev_decimal = 0;
    Py_ssize_t prev_end = 0, dots = 0;
    for (Py_ssize_t i = PAD; i < PAD + len;) {
        const u8 grp = g[i];
        if (grp == G_SEP) {
            if (c[i] == C_NEWLINE) newline = 1;
            i++;
            continue;
        }
        Py_ssize_t e = i + 1;
        if (grp != G_SPLIT)
            while (g[e] == grp) e++;
        u64 h;
        int keep = 1;
        if (grp == G_DIGIT) {
            int all_commas = 0, dot = 0;
            if (prev_digit) {
                /* The gap since the previous token, which was a digit run: commas, or commas then a dot. */
                Py_ssize_t commas = 0;
                for (Py_ssize_t p = prev_end; p < i; p++) commas += c[p] == C_COMMA;
                const Py_ssize_t width = i - prev_end;
                all_commas = commas == width;
                dot = commas == width - 1 && c[i - 1] == C_DOT;
            }
            dots = dot ? dots + 1 : 0;
            const int decimal = dot && (dots % 2 == 1);
            keep = !(decimal || (all_commas && !prev_decimal));
            prev_decimal = decimal;
            h = cfg.num_hash;
        } else if (grp == G_NAME) {
            h = cfg.name_hash;
        } else {
            u64 acc = 0, pw = 1;
            for (Py_ssize_t p = i; p < e; p++) {
                acc += lower_of[PyUnicode_READ(kind, data, p - PAD)] * pw;
                pw *= cfg.base;
            }
            h = fmix(acc + cfg.token_salt);
        }
        prev_digit = grp == G_DIGIT;
        prev_end = e;
        if (keep) {
            out->hash[out->n] = h;
            out->line_break[out->n] = (u8)newline;
            out->n++;
            newline = 0;
        }
        i = e;
    }
    free(c);
    free(g);
    free(up);
    free(end);
    return 0;
nomem:
    free(c);
    free(g);
    free(up);
    free(end);
    free(out->hash);
    free(out->line_break);
    out->hash = NULL;
    out->line_break = NULL;
    PyErr_NoMemory();
    return -1;
}

/* Everything one distinct text contributes: its tokens, head and tail lengths and part hashes. */
typedef struct {
    Tokens tk;
    Py_ssize_t head, tail;
    u64 text_hash[N_PARTS];
    int have_keys[N_PARTS];
    u64 keys[N_PARTS][MAX_BANDS];
} Text;

static inline u64 pos_key(Py_ssize_t i) { return fmix((u64)i + cfg.pos_salt); }

static void analyse_text(Text *t) {
    const Py_ssize_t n = t->tk.n;
    const u64 *h = t->tk.hash;
    Py_ssize_t head = n < cfg.head_tokens ? n : cfg.head_tokens;
    for (Py_ssize_t r = cfg.min_line_tokens; r < cfg.head_tokens && r < n; r++)
        if (t->tk.line_break[r]) {
            head = r;
            break;
        }
    Py_ssize_t tail = n < cfg.tail_tokens ? n : cfg.tail_tokens;
    for (Py_ssize_t r = n - cfg.min_line_tokens; r > n - cfg.tail_tokens && r >= 0; r--)
        if (t->tk.line_break[r]) {
            tail = n - r;
            break;
        }
    u64 all = 0, first = 0, last = 0;
    for (Py_ssize_t j = 0; j < n; j++) {
        all += fmix(h[j] ^ pos_key(j));
        if (j + 1 == head) first = all;
    }
    for (Py_ssize_t j = n - tail; j < n; j++) last += fmix(h[j] ^ pos_key(n - 1 - j));
    const u64 sums[N_PARTS] = {all, first, last, all};
    const Py_ssize_t lens[N_PARTS] = {n, head, tail, n};
    for (int p = 0; p < N_PARTS; p++)
        t->text_hash[p] = lens[p] ? fmix((sums[p] ^ cfg.part[p].salt) + (u64)lens[p] * cfg.len_mul) : 0;
    t->head = head;
    t->tail = tail;
}

/* Band keys of one part of one text (memoised: a text shared by requests is MinHashed once). */
static int part_keys(Text *t, int p, u64 *grams) {
    if (t->have_keys[p]) return 0;
    const Part *part = &cfg.part[p];
    const Py_ssize_t n = t->tk.n;
    Py_ssize_t a = 0, m = n;
    if (p == P_HEAD) m = t->head;
    if (p == P_TAIL) a = n - t->tail, m = t->tail;
    const u64 *h = t->tk.hash + a;
    Py_ssize_t count;
    if (m >= 3) {
        count = m - 2;
        for (Py_ssize_t j = 0; j < count; j++) grams[j] = ngram(h + j, 3);
    } else {
        count = 1;
        grams[0] = ngram(h, (int)m);
    }
    u32 vals[MAX_PERM];
    minhash(part, grams, count, vals);
    for (int b = 0; b < part->bands; b++) {
        u64 key = part->band_seed[b];
        for (int r = 0; r < part->rows; r++) key = fmix(key ^ (u64)vals[b * part->rows + r]);
        t->keys[p][b] = key;
    }
    t->have_keys[p] = 1;
    return 0;
}

static int parse_ids(PyObject *seq, Py_ssize_t n, Py_ssize_t n_texts, Py_ssize_t *ids, const char *what) {
    PyObject *fast = PySequence_Fast(seq, what);
    if (!fast) return -1;
    if (PySequence_Fast_GET_SIZE(fast) != n) {
        Py_DECREF(fast);
        PyErr_Format(PyExc_ValueError, "%s: expected %zd ids", what, n);
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_ssize_t v = PyLong_AsSsize_t(PySequence_Fast_GET_ITEM(fast, i));
        if (v == -1 && PyErr_Occurred()) {
            Py_DECREF(fast);
            return -1;
        }
        if (v < -1 || v >= n_texts) {
            Py_DECREF(fast);
            PyErr_Format(PyExc_ValueError, "%s: id %zd out of range", what, v);
            return -1;
        }
        ids[i] = v;
    }
    Py_DECREF(fast);
    return 0;
}

/* analyse(texts, system_ids, user_ids, with_keys) -> (text_hashes, [keys per part])
 *
 * texts: distinct prepared texts; system_ids / user_ids: per request, an index into texts or -1.
 * text_hashes: bytes of uint64, part-major (N_PARTS x requests); keys: per part, bytes of int64
 * (requests x bands), zero where the part is empty (or None when with_keys is false). */
static PyObject *analyse(PyObject *self, PyObject *args) {
    PyObject *texts, *sys_seq, *usr_seq;
    int with_keys;
    if (!PyArg_ParseTuple(args, "O!OOp", &PyList_Type, &texts, &sys_seq, &usr_seq, &with_keys)) return NULL;
    if (!cfg.ready) {
        PyErr_SetString(PyExc_RuntimeError, "_fingerprint.configure() has not been called");
        return NULL;
    }
    const Py_ssize_t n_texts = PyList_GET_SIZE(texts);
    const Py_ssize_t n = PySequence_Size(sys_seq);
    if (n < 0) return NULL;
    PyObject *result = NULL, *th_bytes = NULL, *key_list = NULL;
    Py_ssize_t *sys_id = malloc(sizeof(Py_ssize_t) * (n + 1)), *usr_id = malloc(sizeof(Py_ssize_t) * (n + 1));
    Text *t = calloc(n_texts + 1, sizeof(Text));
    u64 *grams = NULL;
    if (!sys_id || !usr_id || !t) {
        PyErr_NoMemory();
        goto done;
    }
    if (parse_ids(sys_seq, n, n_texts, sys_id, "system ids") < 0) goto done;
    if (parse_ids(usr_seq, n, n_texts, usr_id, "user ids") < 0) goto done;
    Py_ssize_t longest = 1;
    for (Py_ssize_t k = 0; k < n_texts; k++) {
        PyObject *s = PyList_GET_ITEM(texts, k);
        if (!PyUnicode_Check(s)) {
            PyErr_Format(PyExc_TypeError, "texts[%zd] is not a str", k);
            goto done;
        }
        if (tokenise(s, &t[k].tk) < 0) goto done;
        if (t[k].tk.n > longest) longest = t[k].tk.n;
        analyse_text(&t[k]);
    }
    th_bytes = PyBytes_FromStringAndSize(NULL, sizeof(u64) * N_PARTS * n);
    if (!th_bytes) goto done;
    u64 *th = (u64 *)PyBytes_AS_STRING(th_bytes);
    for (int p = 0; p < N_PARTS; p++)
        for (Py_ssize_t i = 0; i < n; i++) {
            const Py_ssize_t id = p == P_SYSTEM ? sys_id[i] : usr_id[i];
            th[p * n + i] = id >= 0 ? t[id].text_hash[p] : 0;
        }
    if (!with_keys) {
        key_list = Py_NewRef(Py_None);
    } else {
        grams = malloc(sizeof(u64) * (longest + 1));
        key_list = PyList_New(N_PARTS);
        if (!grams || !key_list) {
            if (!grams) PyErr_NoMemory();
            goto done;
        }
        for (int p = 0; p < N_PARTS; p++) {
            const int bands = cfg.part[p].bands;
            PyObject *kb = PyBytes_FromStringAndSize(NULL, sizeof(u64) * bands * n);
            if (!kb) goto done;
            PyList_SET_ITEM(key_list, p, kb);
            u64 *keys = (u64 *)PyBytes_AS_STRING(kb);
            memset(keys, 0, sizeof(u64) * bands * n);
            for (Py_ssize_t i = 0; i < n; i++) {
                const Py_ssize_t id = p == P_SYSTEM ? sys_id[i] : usr_id[i];
                if (id < 0 || !th[p * n + i]) continue;
                part_keys(&t[id], p, grams);
                memcpy(keys + i * bands, t[id].keys[p], sizeof(u64) * bands);
            }
        }
    }
    result = PyTuple_Pack(2, th_bytes, key_list);
done:
    Py_XDECREF(th_bytes);
    Py_XDECREF(key_list);
    if (t)
        for (Py_ssize_t k = 0; k < n_texts; k++) {
            free(t[k].tk.hash);
            free(t[k].tk.line_break);
        }
    free(t);
    free(grams);
    free(sys_id);
    free(usr_id);
    return result;
}

/* minhash(hashes: bytes of uint64, part: int) -> bytes of uint32: one part's MinHash signature
 * (what templates.py checks against rensa before it trusts this module). */
static PyObject *py_minhash(PyObject *self, PyObject *args) {
    Py_buffer buf;
    int p;
    if (!PyArg_ParseTuple(args, "y*i", &buf, &p)) return NULL;
    if (!cfg.ready || p < 0 || p >= N_PARTS || buf.len % sizeof(u64) || buf.len == 0) {
        PyBuffer_Release(&buf);
        PyErr_SetString(PyExc_ValueError, "minhash: configure first; a valid part; a non-empty uint64 buffer");
        return NULL;
    }
    u32 vals[MAX_PERM];
    minhash(&cfg.part[p], (const u64 *)buf.buf, buf.len / (Py_ssize_t)sizeof(u64), vals);
    PyBuffer_Release(&buf);
    return PyBytes_FromStringAndSize((const char *)vals, sizeof(u32) * cfg.part[p].num_perm);
}

static int get_u64(PyObject *obj, u64 *out) {
    *out = PyLong_AsUnsignedLongLongMask(obj);
    return (*out == (u64)-1 && PyErr_Occurred()) ? -1 : 0;
}

/* configure(cls, lower, constants, parts, minhash_seed)
 *
 * cls: uint8 class per code point; lower: uint64 lower-case code point per code point (both
 * 0x110000 long, kept referenced); constants: (base, token_salt, pos_salt, len_mul, num_hash,
 * name_hash, (shingle_mul x3), (shingle_salt x3), head_tokens, tail_tokens, min_line_tokens);
 * parts: N_PARTS tuples (bands, rows, salt, (band seeds)) in templates.PARTS order. */
static PyObject *configure(PyObject *self, PyObject *args) {
    PyObject *cls, *lower, *consts, *parts;
    unsigned long long seed;
    if (!PyArg_ParseTuple(args, "OOO!O!K", &cls, &lower, &PyTuple_Type, &consts, &PyTuple_Type, &parts, &seed))
        return NULL;
    Py_buffer cb, lb;
    if (PyObject_GetBuffer(cls, &cb, PyBUF_SIMPLE) < 0) return NULL;
    if (PyObject_GetBuffer(lower, &lb, PyBUF_SIMPLE) < 0) {
        PyBuffer_Release(&cb);
        return NULL;
    }
    if (cb.len != 0x110000 || lb.len != 0x110000 * (Py_ssize_t)sizeof(u64)) {
        PyBuffer_Release(&cb);
        PyBuffer_Release(&lb);
        PyErr_SetString(PyExc_ValueError, "configure: tables must cover 0x110000 code points");
        return NULL;
    }
    PyObject *mul, *salt;
    u64 v[6];
    int head, tail, min_line;
    if (!PyArg_ParseTuple(consts, "KKKKKKO!O!iii", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &PyTuple_Type, &mul,
                          &PyTuple_Type, &salt, &head, &tail, &min_line) ||
        PyTuple_GET_SIZE(mul) != 3 || PyTuple_GET_SIZE(salt) != 3 || PyTuple_GET_SIZE(parts) != N_PARTS)
        goto bad;
    for (int j = 0; j < 3; j++)
        if (get_u64(PyTuple_GET_ITEM(mul, j), &cfg.shingle_mul[j]) < 0 ||
            get_u64(PyTuple_GET_ITEM(salt, j), &cfg.shingle_salt[j]) < 0)
            goto bad;
    for (int p = 0; p < N_PARTS; p++) {
        PyObject *seeds;
        Part *part = &cfg.part[p];
        if (!PyArg_ParseTuple(PyTuple_GET_ITEM(parts, p), "iiKO!", &part->bands, &part->rows, &part->salt,
                              &PyTuple_Type, &seeds))
            goto bad;
        part->num_perm = part->bands * part->rows;
        if (part->bands < 1 || part->bands > MAX_BANDS || part->rows < 1 || part->num_perm > MAX_PERM ||
            PyTuple_GET_SIZE(seeds) != part->bands) {
            PyErr_SetString(PyExc_ValueError, "configure: bad part shape");
            goto bad;
        }
        for (int b = 0; b < part->bands; b++)
            if (get_u64(PyTuple_GET_ITEM(seeds, b), &part->band_seed[b]) < 0) goto bad;
        build_permutations(part->num_perm, (u64)seed, part->perm_a, part->perm_b);
    }
    if (cfg.ready) {
        PyBuffer_Release(&cfg.cls);
        PyBuffer_Release(&cfg.lower);
    }
    cfg.cls = cb;
    cfg.lower = lb;
    cfg.base = v[0];
    cfg.token_salt = v[1];
    cfg.pos_salt = v[2];
    cfg.len_mul = v[3];
    cfg.num_hash = v[4];
    cfg.name_hash = v[5];
    cfg.head_tokens = head;
    cfg.tail_tokens = tail;
    cfg.min_line_tokens = min_line;
    cfg.ready = 1;
    Py_RETURN_NONE;
bad:
    PyBuffer_Release(&cb);
    PyBuffer_Release(&lb);
    if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "configure: bad constants");
    return NULL;
}

static PyMethodDef methods[] = {
    {"configure", configure, METH_VARARGS, "Load the code-point tables and constants of kernels.templates."},
    {"analyse", analyse, METH_VARARGS, "Text hashes and band keys of each request's parts."},
    {"minhash", py_minhash, METH_VARARGS, "One part's MinHash signature of a set of uint64 hashes."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_fingerprint",
                                    "Template fingerprints for small batches (see kernels/templates.py).", -1,
                                    methods};

PyMODINIT_FUNC PyInit__fingerprint(void) { return PyModule_Create(&module); }
