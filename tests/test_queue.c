/* test_queue.c: being written (issue 4). */
int main(void)
{
	return 0;
}
