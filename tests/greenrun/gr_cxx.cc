// SPDX-License-Identifier: BSD-2-Clause
//
// gr_cxx.cc -- a C++ program that knows nothing of greenproc:
// std::thread workers fed through a std::mutex + std::condition_variable
// queue, a wait_for with a timeout (libstdc++ makes it a
// pthread_cond_clockwait on the steady clock), std::async/std::future
// (libstdc++ waits for a future with syscall(SYS_futex) itself, past
// every pthread call), exceptions thrown in threads and carried back,
// and std::call_once.  Its output is the same natively and under
// greenrun (tests/test_greenrun.c).
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <future>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

std::mutex mu;
std::condition_variable cv;
std::deque<int> work;
bool closing;
long total;

void
worker()
{
	for (;;) {
		std::unique_lock<std::mutex> lk(mu);
		cv.wait(lk, [] { return closing || !work.empty(); });
		if (work.empty())
			return;
		int v = work.front();
		work.pop_front();
		lk.unlock();
		if (v % 97 == 0) {
			try {
				throw std::runtime_error(std::to_string(v));
			} catch (const std::exception &e) {
				std::lock_guard<std::mutex> g(mu);
				total += std::stol(e.what()) / 97;
			}
			continue;
		}
		std::lock_guard<std::mutex> g(mu);
		total += v;
	}
}

int
may_throw(int i)
{
	if (i == 3)
		throw std::invalid_argument("three");
	return i * i;
}

std::once_flag once;
int inits;

}	// namespace

int
main()
{
	std::vector<std::thread> ts;

	for (int i = 0; i < 8; i++)
		ts.emplace_back(worker);
	for (int i = 1; i <= 10000; i++) {
		{
			std::lock_guard<std::mutex> g(mu);
			work.push_back(i);
		}
		cv.notify_one();
	}
	{
		std::lock_guard<std::mutex> g(mu);
		closing = true;
	}
	cv.notify_all();
	for (auto &t : ts)
		t.join();
	std::printf("total %ld\n", total);

	// A timed wait nobody signals: it times out.
	{
		std::mutex m;
		std::condition_variable c;
		std::unique_lock<std::mutex> lk(m);
		bool r = c.wait_for(lk, std::chrono::milliseconds(20),
		    [] { return false; });
		std::printf("wait_for %s\n", r ? "true" : "timed out");
	}

	// Futures: values and an exception come back from other threads.
	std::vector<std::future<int>> fs;
	for (int i = 0; i < 5; i++)
		fs.push_back(std::async(std::launch::async, may_throw, i));
	for (int i = 0; i < 5; i++) {
		try {
			std::printf("future %d: %d\n", i, fs[i].get());
		} catch (const std::invalid_argument &e) {
			std::printf("future %d threw %s\n", i, e.what());
		}
	}

	// A promise set by a thread that sleeps first: get() must wait.
	std::promise<std::string> p;
	std::future<std::string> f = p.get_future();
	std::thread setter([&p] {
		std::this_thread::sleep_for(std::chrono::milliseconds(10));
		p.set_value("late");
	});
	std::printf("promise %s\n", f.get().c_str());
	setter.join();

	std::vector<std::thread> os;
	for (int i = 0; i < 4; i++)
		os.emplace_back([] { std::call_once(once, [] { inits++; }); });
	for (auto &t : os)
		t.join();
	std::printf("call_once ran %d time(s)\n", inits);

	// An exception that leaves main's try through a destructor chain.
	try {
		std::thread t([] {});
		t.join();
		throw std::logic_error("done");
	} catch (const std::logic_error &e) {
		std::printf("caught %s\n", e.what());
	}
	return 7;
}
