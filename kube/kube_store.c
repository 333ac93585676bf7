/* kube_store.c: being written (issue 4). */
