/* The intent classifier's per-text sums for small batches, in C: the online decision service's path.
 *
 * kernels/intent.py's IntentClassifier.decision_function gathers one float32 table row per hashed
 * character n-gram and adds them up per text. This computes the same float32 sums with the same
 * rounding: per position, the rows of n = lo..hi added in turn (NumPy's elementwise adds); per text,
 * the first position's row plus NumPy's pairwise sum of the rest (what numpy.add.reduceat does along
 * that axis). So the scores are bit for bit those of the NumPy path, without NumPy's fixed cost per
 * call, which is most of the time for a handful of texts. intent.py trusts it only after comparing
 * the two on sample texts in the running process, and tests/test_intent.py compares them on
 * generated and corpus texts.
 *
 * Texts arrive prepared (_clip, lower-cased, NUL replaced); each is read as if _PAD NUL separators
 * surrounded it, exactly as in the joined NumPy buffer.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef uint32_t u32;

#define MAX_N 16
#define PW_BLOCKSIZE 128
#define PREFETCH 16 /* table rows requested ahead of use */
#if defined(__GNUC__) || defined(__clang__)
#define prefetch(p) __builtin_prefetch(p)
#else
#define prefetch(p) ((void)(p))
#endif

/* numpy's FLOAT_pairwise_sum (loops_utils.h): the same blocking, so the same rounding. */
static float pairwise_sum(const float *a, Py_ssize_t n, Py_ssize_t stride) {
    if (n < 8) {
        float res = 0.0f;
        for (Py_ssize_t i = 0; i < n; i++) res += a[i * stride];
        return res;
    }
    if (n <= PW_BLOCKSIZE) {
        float r[8];
        Py_ssize_t i;
        for (int j = 0; j < 8; j++) r[j] = a[j * stride];
        for (i = 8; i < n - (n % 8); i += 8)
            for (int j = 0; j < 8; j++) r[j] += a[(i + j) * stride];
        float res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for (; i < n; i++) res += a[i * stride];
        return res;
    }
    Py_ssize_t n2 = n / 2;
    n2 -= n2 % 8;
    return pairwise_sum(a, n2, stride) + pairwise_sum(a + n2 * stride, n - n2, stride);
}

/* sums(texts, table, columns, bits, lo, hi, pad, m1, m2, salts) -> bytes of float32 (texts x columns)
 *
 * table: C-contiguous float32 (2**bits x columns); salts: one uint32 per n-gram size 0..hi. */
static PyObject *sums(PyObject *self, PyObject *args) {
    (void)self;
    PyObject *texts, *table_obj, *salts;
    Py_ssize_t columns;
    int bits, lo, hi, pad;
    unsigned long m1_arg, m2_arg;
    if (!PyArg_ParseTuple(args, "O!OniiiikkO!", &PyList_Type, &texts, &table_obj, &columns, &bits, &lo, &hi, &pad,
                          &m1_arg, &m2_arg, &PyTuple_Type, &salts))
        return NULL;
    if (lo < 1 || hi < lo || hi > MAX_N || pad < hi - 1 || pad < 1 || bits < 1 || bits > 31 || columns < 1 ||
        PyTuple_GET_SIZE(salts) <= hi) {
        PyErr_SetString(PyExc_ValueError, "sums: bad n-gram range, padding, bits, columns or salts");
        return NULL;
    }
    u32 salt[MAX_N + 1];
    for (int n = 0; n <= hi; n++) {
        unsigned long v = PyLong_AsUnsignedLongMask(PyTuple_GET_ITEM(salts, n));
        if (v == (unsigned long)-1 && PyErr_Occurred()) return NULL;
        salt[n] = (u32)v;
    }
    Py_buffer tb;
    if (PyObject_GetBuffer(table_obj, &tb, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) return NULL;
    if (tb.itemsize != sizeof(float) || (tb.format && strcmp(tb.format, "f") != 0) ||
        tb.len != ((Py_ssize_t)1 << bits) * columns * (Py_ssize_t)sizeof(float)) {
        PyBuffer_Release(&tb);
        PyErr_SetString(PyExc_ValueError, "sums: table must be float32 of shape (2**bits, columns)");
        return NULL;
    }
    const float *table = (const float *)tb.buf;
    const u32 m1 = (u32)m1_arg, m2 = (u32)m2_arg;
    const int shift = 32 - bits;
    u32 power[MAX_N];
    power[0] = 1;
    for (int n = 1; n < MAX_N; n++) power[n] = power[n - 1] * m1;
    const Py_ssize_t n_texts = PyList_GET_SIZE(texts);
    Py_ssize_t longest = 0;
    for (Py_ssize_t t = 0; t < n_texts; t++) {
        PyObject *s = PyList_GET_ITEM(texts, t);
        if (!PyUnicode_Check(s)) {
            PyBuffer_Release(&tb);
            PyErr_Format(PyExc_TypeError, "texts[%zd] is not a str", t);
            return NULL;
        }
        if (PyUnicode_GET_LENGTH(s) > longest) longest = PyUnicode_GET_LENGTH(s);
    }
    PyObject *out = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)sizeof(float) * columns * n_texts);
    /* codes: pad NULs, the text, pad NULs; rows: one summed table row per position of the text. */
    u32 *codes = malloc(sizeof(u32) * (longest + 2 * pad));
    float *rows = malloc(sizeof(float) * columns * (longest + pad));
    u32 *index = malloc(sizeof(u32) * (hi - lo + 1) * (longest + pad));
    if (!out || !codes || !rows || !index) {
        Py_XDECREF(out);
        free(codes);
        free(rows);
        free(index);
        PyBuffer_Release(&tb);
        return PyErr_NoMemory();
    }
    float *res = (float *)PyBytes_AS_STRING(out);
    for (Py_ssize_t t = 0; t < n_texts; t++) {
        PyObject *s = PyList_GET_ITEM(texts, t);
        const int kind = PyUnicode_KIND(s);
        const void *data = PyUnicode_DATA(s);
        const Py_ssize_t len = PyUnicode_GET_LENGTH(s), positions = len + pad;
        memset(codes, 0, sizeof(u32) * pad);
        for (Py_ssize_t i = 0; i < len; i++) codes[pad + i] = (u32)PyUnicode_READ(kind, data, i);
        memset(codes + pad + len, 0, sizeof(u32) * pad);
        /* Pass 1: every n-gram's table row. Pass 2: gather and add them, prefetching a few positions
           ahead; the table is megabytes, so the gathers wait on memory, and independent loads in
           flight together wait less. */
        const int sizes = hi - lo + 1;
        for (Py_ssize_t p = 0; p < positions; p++) {
            const u32 *end = codes + pad + p; /* the newest code point of every n-gram ending here */
            /* NumPy's g_n = g_{n-1}(previous position) * m1 + code is the polynomial
               sum of code(p - i) * m1**i over i < n: each size adds one older code. */
            u32 g = 0;
            for (int n = 1; n <= hi; n++) {
                g += end[1 - n] * power[n - 1];
                if (n >= lo) index[p * sizes + n - lo] = (u32)((g + salt[n]) * m2) >> shift;
            }
        }
        const Py_ssize_t slots = positions * sizes;
        for (Py_ssize_t q = 0; q < slots && q < PREFETCH; q++) prefetch(table + (Py_ssize_t)index[q] * columns);
        for (Py_ssize_t p = 0; p < positions; p++) {
            float *row = rows + p * columns;
            const u32 *ix = index + p * sizes;
            for (int j = 0; j < sizes; j++) {
                const Py_ssize_t ahead = p * sizes + j + PREFETCH;
                if (ahead < slots) prefetch(table + (Py_ssize_t)index[ahead] * columns);
                const float *src = table + (Py_ssize_t)ix[j] * columns;
                if (j == 0)
                    memcpy(row, src, sizeof(float) * columns);
                else
                    for (Py_ssize_t c = 0; c < columns; c++) row[c] += src[c];
            }
        }
        float *sum = res + t * columns;
        for (Py_ssize_t c = 0; c < columns; c++)
            sum[c] = rows[c] + pairwise_sum(rows + columns + c, positions - 1, columns);
    }
    free(codes);
    free(rows);
    free(index);
    PyBuffer_Release(&tb);
    return out;
}

static PyMethodDef methods[] = {
    {"sums", sums, METH_VARARGS, "Per-text float32 sums of the classifier table's n-gram rows."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_intent", "Intent classifier sums for small batches (see kernels/intent.py).", -1, methods,
    NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__intent(void) { return PyModule_Create(&module); }
