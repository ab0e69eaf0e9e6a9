"""Intelligence sharing between providers: STIX 2.1 export, privacy-preserving indicators, TAXII 2.1."""
