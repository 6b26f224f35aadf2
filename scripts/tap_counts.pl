#!/usr/bin/perl
# SPDX-License-Identifier: GPL-2.0
# Count a TAP document's results with Perl's TAP::Parser (what prove uses):
# prints "tests=N pass=N fail=N skip=N plan=N errors=N" for FILE, and each
# parse error on stderr.
use strict;
use warnings;
use TAP::Parser;

my $file = shift or die "usage: tap_counts.pl FILE\n";
open(my $fh, '<', $file) or die "tap_counts.pl: $file: $!\n";
my $tap = do { local $/; <$fh> };
if ($tap !~ /\S/) {
	# TAP::Parser has no iterator for empty input.
	print STDERR "TAP::Parser: $file: empty document\n";
	print "tests=0 pass=0 fail=0 skip=0 plan=none errors=1\n";
	exit 0;
}
my $parser = TAP::Parser->new({ tap => $tap });
my ($pass, $fail, $skip) = (0, 0, 0);
while (my $r = $parser->next) {
	next unless $r->is_test;
	if (!$r->is_actual_ok) { $fail++ }
	elsif ($r->has_skip) { $skip++ }
	else { $pass++ }
}
my @errors = $parser->parse_errors;
print STDERR "TAP::Parser: $file: $_\n" for @errors;
printf "tests=%d pass=%d fail=%d skip=%d plan=%s errors=%d\n", $parser->tests_run, $pass, $fail, $skip,
	$parser->tests_planned // 'none', scalar @errors;
