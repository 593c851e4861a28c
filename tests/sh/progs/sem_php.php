<?php
// PHP's sysvsem: sem_get/sem_acquire/sem_release between processes.
$s = sem_get(0x5e0300, 1, 0600, 1);
if ($s === false) { echo "sem_get failed\n"; exit(1); }
var_dump(sem_acquire($s));
$pid = pcntl_fork();
if ($pid == 0) {
	$c = sem_get(0x5e0300, 1, 0600, 1);
	var_dump(sem_acquire($c, true));	// held by the parent: false
	exit(0);
}
pcntl_waitpid($pid, $st);
echo "child exit ", pcntl_wexitstatus($st), "\n";
var_dump(sem_release($s));
var_dump(sem_acquire($s, true));
var_dump(sem_release($s));
var_dump(sem_remove($s));
