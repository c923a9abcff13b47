/**
 * The command line's subcommands besides {@code serve}: {@code warm} and {@code resolve} talk to a
 * running proxy's admin port; {@code convert} converts layer files offline with the same transcoder
 * the proxy uses. Errors are one line on stderr and a non-zero exit code.
 */
package io.transship.server.cli;
