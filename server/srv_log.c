/* srv_log.c: being written (issue 3). */
