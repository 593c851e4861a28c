/*
 * opt.h - the one-line error for an option getopt_long() refused, the
 * same for every subcommand.  Option strings start with ':' so that a
 * missing argument is told apart from an unknown option.
 */
#ifndef USHM_TOOL_OPT_H
#define USHM_TOOL_OPT_H

/* Say what is wrong with the option getopt_long() just returned C for
 * ('?' or ':'), and return EXIT_USAGE. */
int opt_error(const char *cmd, int c, char **argv);

#endif
