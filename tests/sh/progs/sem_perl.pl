# IPC::Semaphore across processes: a child blocks until the parent
# releases it; the counts, values and pids the parent sees on the way.
use strict;
use warnings;
use IPC::SysV qw(IPC_CREAT IPC_EXCL S_IRUSR S_IWUSR IPC_NOWAIT SEM_UNDO);
use IPC::Semaphore;
use POSIX ":sys_wait_h";

$| = 1;
my $sem = IPC::Semaphore->new(0x5e0100, 2, IPC_CREAT | IPC_EXCL | 0600)
	or die "new: $!";
$sem->setall(0, 5) or die "setall: $!";
print "values: ", join(" ", $sem->getall), "\n";
my $pid = fork // die "fork: $!";
if ($pid == 0) {
	$sem->op(0, -1, 0) or die "child op: $!";
	$sem->op(1, -2, SEM_UNDO) or die "child undo op: $!";
	exit 0;
}
for (my $i = 0; $sem->getncnt(0) != 1; $i++) {
	die "child never blocked" if $i > 5000;
	select(undef, undef, undef, 0.001);
}
print "ncnt: ", $sem->getncnt(0), "\n";
my $r = $sem->op(0, -1, IPC_NOWAIT);
print "nowait: ", ($r ? "ok" : "failed: " . ($! + 0 == 11 ? "EAGAIN" : "$!")), "\n";
$sem->op(0, 1, 0) or die "op: $!";
waitpid($pid, 0);
print "child exit: ", $? >> 8, "\n";
print "values: ", join(" ", $sem->getall), "\n";
print "pid is child: ", ($sem->getpid(0) == $pid ? "yes" : "no"), "\n";
print "pid 1 is child: ", ($sem->getpid(1) == $pid ? "yes" : "no"), "\n";
my $st = $sem->stat;
print "nsems: ", $st->nsems, " mode: ", sprintf("%o", $st->mode & 0777), "\n";
$sem->remove or die "remove: $!";
print "removed: ", (defined IPC::Semaphore->new(0x5e0100, 2, 0) ? "no" : "yes"), "\n";
