/* cert_gen.c: being written (issue 3). */
