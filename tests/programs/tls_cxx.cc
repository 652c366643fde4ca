// SPDX-License-Identifier: BSD-2-Clause
/*
 * tls_cxx.cc -- C++ thread_local objects whose constructors and
 * destructors print: each of 4 threads constructs two (A then B, in
 * turn), all of them yield while alive and check they still see their
 * own, then they end one at a time: B's destructor, then A's, on the
 * thread that constructed them.  main's own object is destroyed at
 * exit.  Run natively and under greenrun -w 1 by test_tls.c.
 */
#include <pthread.h>
#include <sched.h>
#include <cstdio>

namespace {

constexpr int NT = 4;

pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
int turn;		// whose turn to construct; NT: all have
int leave = -1;		// who may end now
int bad;

struct Obj {
	char tag;
	int id;
	Obj(char t, int i) : tag(t), id(i)
	{
		std::printf("ctor %c%d\n", tag, id);
	}
	~Obj()
	{
		std::printf("dtor %c%d\n", tag, id);
	}
};

thread_local int my_id = -1;

Obj &
a()
{
	thread_local Obj o('A', my_id);
	return o;
}

Obj &
b()
{
	thread_local Obj o('B', my_id);
	return o;
}

void *
run(void *arg)
{
	int id = static_cast<int>(reinterpret_cast<long>(arg));

	pthread_mutex_lock(&mu);
	while (turn != id)
		pthread_cond_wait(&cv, &mu);
	my_id = id;
	a();
	b();
	turn++;
	pthread_cond_broadcast(&cv);
	while (turn != NT)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	for (int i = 0; i < 20; i++) {
		sched_yield();
		if (a().id != id || b().id != id || my_id != id)
			__atomic_fetch_add(&bad, 1, __ATOMIC_RELAXED);
	}
	pthread_mutex_lock(&mu);
	while (leave != id)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	std::printf("end %d\n", id);
	return nullptr;
}

} // namespace

int
main()
{
	pthread_t t[NT];

	my_id = 99;
	a();
	for (long i = 0; i < NT; i++)
		pthread_create(&t[i], nullptr, run, reinterpret_cast<void *>(i));
	for (int i = 0; i < NT; i++) {
		pthread_mutex_lock(&mu);
		leave = i;
		pthread_cond_broadcast(&cv);
		pthread_mutex_unlock(&mu);
		pthread_join(t[i], nullptr);
	}
	std::printf("bad %d, main's A is %d\n", bad, a().id);
	return 0;
}
