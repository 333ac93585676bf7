/* pol_pod.c: being written (issue 3). */
