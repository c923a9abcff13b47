/**
 * End-to-end harness for transship: the packaged proxy jar ({@code
 * proxy-server/target/transship.jar}) run as a separate process between real registry clients and a
 * real upstream registry.
 *
 * <p>Everything runs on loopback, on free ports, under one temporary directory per test class
 * ({@link io.transship.e2e.E2eEnv}); every wait is bounded and every process started is stopped in
 * {@code @AfterAll}. The pieces:
 *
 * <ul>
 *   <li>{@link io.transship.e2e.DockerRegistry}: Debian {@code docker-registry} (CNCF distribution
 *       2.8) as the upstream, plain or with htpasswd basic auth (lab / labpass).
 *   <li>{@link io.transship.e2e.TestImages}: builds an OCI image layout offline and
 *       deterministically (three GNU-tar gzip layers with every file type a converter must keep,
 *       plus an arm64 image and a multi-arch index), knows the expected unpacked file tree, and
 *       pushes the images with skopeo.
 *   <li>{@link io.transship.e2e.Transship}: writes a proxy config, starts the jar, waits for {@code
 *       /readyz}.
 *   <li>{@link io.transship.e2e.S3Proxy}: a real S3 server (S3Proxy, out of process, filesystem
 *       backend) for S3 storage; its bucket is a directory, so stored objects can be listed from
 *       disk.
 *   <li>{@link io.transship.e2e.Containerd}: a private containerd (own root, state and socket, CRI
 *       disabled) driven with {@code ctr}, and hosts.toml mirror directories.
 *   <li>{@link io.transship.e2e.Podman}: a private podman store and configuration per test (vfs for
 *       plain pulls, {@code Podman.partial} for overlay with partial pulls), storage in a short
 *       {@code /tmp/tsp-<n>} directory, optional {@code registries.conf} mirrors.
 *   <li>{@link io.transship.e2e.Cmd} and {@link io.transship.e2e.Daemon}: short commands with a
 *       timeout and long-running processes with captured logs; {@link
 *       io.transship.e2e.DumpLogsOnFailure} prints those logs when a test or a fixture fails.
 * </ul>
 *
 * <p>Required programs that are missing make the tests fail with a message naming them ({@link
 * io.transship.e2e.Tools}); {@code bin/test} installs them. Set {@code -Dtransship.e2e.keep=true}
 * to keep the temporary directories for inspection.
 */
package io.transship.e2e;
