// SPDX-License-Identifier: BSD-2-Clause
/*
 * gr_cancel_cxx.cc -- cancellation and pthread_exit unwind a C++ thread:
 * destructors of objects on its stack run, innermost first, interleaved
 * with pthread_cleanup_push handlers (in C++ glibc's macro makes them
 * destructors too), and a catch (...) that rethrows sees the unwind go
 * through it.
 */
#include <pthread.h>
#include <semaphore.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>

static sem_t ready;

static void
say(const std::string &s)
{
	std::string line = s + "\n";

	(void)!write(1, line.data(), line.size());
}

struct Guard {
	std::string name;
	explicit Guard(const char *n) : name(n) { say("  made " + name); }
	~Guard() { say("  destroyed " + name); }
};

static void
handler(void *arg)
{
	say(std::string("  cleanup ") + static_cast<const char *>(arg));
}

static void
deep(void)
{
	Guard g("deep");

	sem_post(&ready);
	for (;;)
		sleep(100);
}

static void *
cancelled(void *)
{
	Guard outer("outer");

	pthread_cleanup_push(handler, const_cast<char *>("handler"));
	try {
		Guard inner("inner");
		deep();
	} catch (...) {
		say("  catch (...) rethrows");
		throw;
	}
	pthread_cleanup_pop(0);
	return nullptr;
}

static void *
exits(void *)
{
	Guard g("exiting");

	pthread_exit(reinterpret_cast<void *>(7));
}

int
main()
{
	pthread_t t;
	void *rv;

	sem_init(&ready, 0, 0);
	say("cancel:");
	pthread_create(&t, nullptr, cancelled, nullptr);
	sem_wait(&ready);
	usleep(20000);
	pthread_cancel(t);
	pthread_join(t, &rv);
	say(rv == PTHREAD_CANCELED ? "  joined: PTHREAD_CANCELED" :
	    "  joined: something else");

	say("pthread_exit:");
	pthread_create(&t, nullptr, exits, nullptr);
	pthread_join(t, &rv);
	say("  joined: " + std::to_string(reinterpret_cast<long>(rv)));
	return 0;
}
