/* srv_cache.c: being written (issue 3). */
