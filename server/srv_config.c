/* srv_config.c: being written (issue 3). */
