# Loaded before a memcached t/*.t file (PERL5OPT=-MWhackNode, see scripts/memcached-t): points
# t/lib/MemcachedTest.pm at Whack. Each new_memcached() starts a fresh Whack node on a loopback
# port it picks itself, as the harness starts a fresh memcached, so a file sees empty stats and
# an empty cache. memcached's own T_MEMD_USE_DAEMON only connects every call to one running
# server, which carries one file's items and counters into the next.
#
# Environment (set by scripts/memcached-t):
#   WHACK_T_NODE     the command that runs a node, without --port (e.g. "java ... -jar whack.jar node")
#   WHACK_T_LOGS     directory that receives each node's output
#   WHACK_T_PIDS     file that receives each node's process id, so the script can stop leftovers
#   WHACK_T_PARTIAL  files that run only up to their first server Whack cannot be (not_applicable)
package WhackNode;
use strict;
use warnings;
use Carp qw(croak);
use IO::Socket::INET;
use lib 't/lib';
use MemcachedTest ();
use POSIX ();
use Test::More ();

my $started = 0;

# memcached start-up flags that mean something to Whack, and the node flags they become. A
# flag not listed here makes new_memcached fail (see not_applicable): its file needs a server
# Whack is not, and scripts/memcached-t lists it as not applicable or partly applicable.
# Without -m a node gets memcached's default 64 MB cache.
sub node_flags {
    my ($args) = @_;
    my @words = split ' ', ($args // '');
    my $memory = '64m';
    my @flags;
    while (@words) {
        my $word = shift @words;
        if ($word eq '-m' && @words) {
            $memory = shift(@words) . 'm';
        } elsif ($word eq '-I' && @words) {
            push @flags, '--max-item-size', shift @words;
        } elsif ($word eq '-l' && @words && $words[0] eq '127.0.0.1') {
            shift @words; # a node listens there anyway
        } elsif ($word eq '-o' && @words) {
            for my $option (split /,/, shift @words) {
                if ($option =~ /^idle_timeout=(\d+)$/) {
                    push @flags, '--idle-timeout', $1;
                    next;
                }
                # Slab layout and LRU maintenance tuning: Whack has neither slabs nor background
                # LRU threads, and these change no reply.
                next if $option =~ /^(?:no_modern|modern|slab_chunk_max=\d+)$/;
                not_applicable("memcached option -o $option has no Whack equivalent (args: $args)");
            }
        } else {
            not_applicable("memcached start-up flag $word has no Whack equivalent (args: $args)");
        }
    }
    return ('--memory', $memory, @flags);
}

# A file listed in WHACK_T_PARTIAL runs until its first server that needs a flag Whack lacks;
# its remaining checks are reported as skipped with the reason. Any other file fails there.
sub not_applicable {
    my ($why) = @_;
    my $file = (split m{/}, $0)[-1];
    croak("WhackNode: $why") unless grep { $_ eq $file } split ' ', ($ENV{WHACK_T_PARTIAL} // '');
    my $builder = Test::More->builder;
    my $left = ($builder->expected_tests || 0) - $builder->current_test;
    $builder->skip($why) for 1 .. $left;
    Test::More::done_testing() unless $builder->has_plan;
    exit 0;
}

sub start_node {
    my ($args) = @_;
    my $command = $ENV{WHACK_T_NODE} or croak('WhackNode: WHACK_T_NODE is not set');
    my @flags = node_flags($args);
    my $logs = $ENV{WHACK_T_LOGS} // ($ENV{TMPDIR} // '/tmp');
    my $log = "$logs/node-$$-" . $started++ . '.log';
    my $pid = fork();
    croak("WhackNode: fork: $!") unless defined $pid;
    unless ($pid) {
        open(STDOUT, '>', $log) or die "WhackNode: $log: $!";
        open(STDERR, '>&', \*STDOUT) or die "WhackNode: stderr: $!";
        exec("exec $command --port 0 --metrics-port 0 @flags") or die "WhackNode: exec: $!";
    }
    if (my $pids = $ENV{WHACK_T_PIDS}) {
        if (open(my $fh, '>>', $pids)) { print $fh "$pid\n"; close $fh; }
    }
    # The node picks a free port itself and names it in its "listening on" line (the JVM may
    # write about its class archive before): a port chosen here and handed to it could be taken
    # by another program in between, and the test would then talk to that program. A JVM on a
    # busy two-core machine can take several seconds to get there.
    for (1 .. 1200) {
        my $port;
        if (open(my $fh, '<', $log)) {
            while (my $line = <$fh>) {
                $port = $1 if $line =~ /listening on 127\.0\.0\.1:(\d+)/;
            }
            close $fh;
        }
        if (defined $port) {
            my $conn = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port")
                or croak("WhackNode: cannot connect to the node on 127.0.0.1:$port: $!");
            return Memcached::Handle->new(pid => $pid, conn => $conn,
                                          host => '127.0.0.1', port => $port);
        }
        # "Failed" as the harness words it: item_size_max.t expects a refused start to say so.
        croak("Failed to start a Whack node: it exited before listening (see $log)")
            if waitpid($pid, POSIX::WNOHANG()) == $pid;
        select(undef, undef, undef, 0.05);
    }
    kill 'TERM', $pid;
    croak("WhackNode: the node was not listening after 60 s (see $log)");
}

{
    no warnings 'redefine';
    *MemcachedTest::new_memcached = sub { my ($args) = @_; return start_node($args); };
    # The supports_* checks read `memcached -h`; a Whack node has none of those builds' extras
    # (SASL, TLS, extstore, proxy, UDP, unix sockets).
    *MemcachedTest::print_help = sub { return "memcached 1.6.18 (Whack)\n" };
    *MemcachedTest::supports_udp = sub { return 0 };
    # A debug build's "debugtime N" moves memcached's clock N seconds ahead; a release build,
    # and Whack, have no such command, so the shim lets N seconds pass instead. The client's own
    # time() then agrees with the server's, as the absolute expiry times in expirations.t assume.
    *MemcachedTest::mem_move_time = sub { my ($sock, $move) = @_; sleep($move); };
    *MemcachedTest::get_memcached_exe = sub {
        croak('WhackNode: this test runs the memcached binary itself');
    };
}

1;
