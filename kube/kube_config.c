/* kube_config.c: being written (issue 4). */
