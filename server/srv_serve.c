/* srv_serve.c: being written (issue 3). */
