# SPDX-License-Identifier: BSD-2-Clause
# rb_threads.rb -- Ruby's threads (its GVL hand-offs are condition
# variables), queues, timeouts, fork, Open3, signals, sockets, pipes and a
# Ractor (realprogs-servers.sh).
require 'socket'
require 'open3'
require 'timeout'
Thread.report_on_exception = false
m = Mutex.new
count = 0
8.times.map { Thread.new { 1000.times { m.synchronize { count += 1 } } } }.each(&:join)
puts "count #{count}"
sq = SizedQueue.new(4)
prod = Thread.new { 2000.times { |i| sq << i }; sq << nil }
sum = 0
while (v = sq.pop); sum += v; end
prod.join
puts "sum #{sum}"
begin
  Timeout.timeout(0.1) { sleep 1 }
rescue Timeout::Error
  puts "timeout"
end
out, st = Open3.capture2("sh", "-c", "echo sub; exit 3")
puts "open3 #{out.strip} #{st.exitstatus}"
pid = fork { exit! 7 }
Process.wait(pid)
puts "fork #{$?.exitstatus}"
got = Queue.new
Signal.trap("USR1") { got << :usr1 }
Process.kill("USR1", Process.pid)
puts "signal #{got.pop}"
srv = TCPServer.new("127.0.0.1", 0)
t = Thread.new { c = srv.accept; c.write(c.read(5)); c.close }
s = TCPSocket.new("127.0.0.1", srv.addr[1])
s.write("hello")
puts "echo #{s.read(5)}"
t.join
th = Thread.new { sleep }
Thread.pass until th.status == "sleep"
th.raise("boom")
begin
  th.join
rescue => e
  puts "raised #{e.message}"
end
th = Thread.new { loop { Thread.pass } }
th.kill
th.join
puts "killed #{th.status.inspect}"
r, w = IO.pipe
wt = Thread.new { 100.times { |i| w.puts i }; w.close }
puts "pipe #{r.read.lines.size}"
wt.join
Warning[:experimental] = false
ra = Ractor.new { Ractor.receive * 2 }
ra.send(21)
puts "ractor #{ra.take}"
puts "done"
