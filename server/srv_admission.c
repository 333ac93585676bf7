/* srv_admission.c: being written (issue 3). */
