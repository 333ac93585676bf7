/* kube_queue.c: being written (issue 4). */
