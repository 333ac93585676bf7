/* srv_http.c: being written (issue 3). */
