/* kube_client.c: being written (issue 4). */
