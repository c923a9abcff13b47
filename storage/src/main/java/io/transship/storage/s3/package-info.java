/**
 * The S3 object store: {@link io.transship.storage.s3.S3ObjectStore} on AWS S3 or an S3-compatible
 * server, configured by {@link io.transship.storage.s3.S3Config}. The only package that uses the
 * AWS SDK (over its Apache HTTP client; no Netty, no CRT); nothing outside it sees an SDK type.
 */
package io.transship.storage.s3;
