/**
 * Configuration: one YAML file, embedded defaults ({@code defaults.yaml} on the classpath), and
 * {@code TRANSSHIP_*} environment overrides, bound into immutable records. Start at {@link
 * io.transship.server.config.ConfigLoader}; every key is documented in {@code
 * docs/configuration.md}.
 */
package io.transship.server.config;
