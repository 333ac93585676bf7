/* cert_store.c: being written (issue 3). */
