/* srv_metrics.c: being written (issue 3). */
