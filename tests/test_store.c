/* test_store.c: being written (issue 4). */
int main(void)
{
	return 0;
}
