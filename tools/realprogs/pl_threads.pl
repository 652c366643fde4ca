use strict; use warnings; use threads; use threads::shared; use Thread::Queue;
my $q = Thread::Queue->new(); my $r = Thread::Queue->new();
my $cnt :shared = 0;
my @w = map { threads->create(sub { while (defined(my $x = $q->dequeue())) { $r->enqueue($x*2); { lock($cnt); $cnt++; } } return 1; }) } 1..4;
$q->enqueue($_) for 1..5000; $q->end();
$_->join() for @w;
my $s=0; while (defined(my $y=$r->dequeue_nb())) { $s+=$y }
die "bad $s" unless $s == 5000*5001 && $cnt==5000;
my @t = map { my $i=$_; threads->create(sub { select(undef,undef,undef,0.1); return $i*$i }) } 1..10;
my $t=0; $t += $_->join() for @t;
die "bad t" unless $t==385;
print "perl ok $s $cnt\n";
