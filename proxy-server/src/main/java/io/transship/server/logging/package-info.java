/**
 * Logging: the output format ({@code log.format}: one text line per event, or logback's JSON
 * encoder with fields) and escaping of client-controlled values, so that no byte a client sends can
 * forge or break a log line.
 */
package io.transship.server.logging;
