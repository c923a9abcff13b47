# transship container image: build on JDK 25 with Maven, run on a jlinked JRE 25 with the native
# codec libraries (ISA-L igzip, libdeflate) on a small Debian root. See docs/kubernetes.md.
#
#   docker build -t transship .                         (bases from a registry that has them)
#   buildah bud --isolation chroot --storage-driver vfs \
#     --build-arg BUILD_BASE=localhost/transship-base/build:jdk25 \
#     --build-arg RUNTIME_BASE=localhost/transship-base/runtime:bookworm \
#     --build-arg PREBUILT_JAR=proxy-server/target/transship.jar -t transship .
#
# Base images are arguments: BUILD_BASE needs a JDK 25 (jlink) and, unless PREBUILT_JAR is given,
# Maven with access to Maven Central (or a local repository mounted at /root/.m2);
# RUNTIME_BASE is any glibc Debian/Ubuntu root (bookworm-slim or newer). image/make-bases.sh
# makes both without a registry (debootstrap + buildah). PREBUILT_JAR (a path in the context)
# skips Maven: the jar that `mvn package` made outside the build is copied instead.
ARG BUILD_BASE=maven:3.9-eclipse-temurin-25
ARG RUNTIME_BASE=debian:bookworm-slim

FROM ${BUILD_BASE} AS build
ARG PREBUILT_JAR=
# java.desktop: java.beans (YAML binding); jdk.crypto.ec / jdk.naming.dns / jdk.zipfs: TLS, DNS,
# zip file systems some libraries open. Found with jdeps --print-module-deps, kept explicit.
ARG JLINK_MODULES=java.base,java.desktop,java.instrument,java.logging,java.management,java.naming,java.net.http,java.security.jgss,java.sql,java.xml,jdk.crypto.ec,jdk.jfr,jdk.management,jdk.naming.dns,jdk.net,jdk.unsupported,jdk.zipfs
WORKDIR /src
COPY . .
RUN set -eu; \
    if [ -n "$PREBUILT_JAR" ]; then cp "$PREBUILT_JAR" /tmp/transship.jar; \
    else mvn -B -q -pl proxy-server -am package -DskipTests -Dspotless.check.skip=true \
         && cp proxy-server/target/transship.jar /tmp/transship.jar; fi; \
    jlink --add-modules "$JLINK_MODULES" --strip-java-debug-attributes --no-man-pages --no-header-files \
          --generate-cds-archive --output /opt/jre; \
    # the CDS archive for heaps over 32 GiB (no compressed oops): 14 MB for a case the chart never sizes
    rm -f /opt/jre/lib/server/classes_nocoops.jsa; \
    /opt/jre/bin/java -version

FROM ${RUNTIME_BASE}
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG SOURCE=
LABEL org.opencontainers.image.title="transship" \
      org.opencontainers.image.description="Pull-through OCI registry proxy that transcodes gzip layers to zstd or eStargz on first pull" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.licenses="Apache-2.0"
# the native codecs: used when present (the start-up log names the active ones)
RUN if ! dpkg -s libisal2 libdeflate0 ca-certificates > /dev/null 2>&1; then \
      apt-get update && apt-get install -y --no-install-recommends libisal2 libdeflate0 ca-certificates \
      && rm -rf /var/lib/apt/lists/*; fi \
    && mkdir -p /var/lib/transship /etc/transship \
    && chown 65532:65532 /var/lib/transship && chmod 0750 /var/lib/transship
COPY --from=build /opt/jre /opt/transship/jre
COPY --from=build /tmp/transship.jar /opt/transship/transship.jar
COPY image/transship.yaml /etc/transship/transship.yaml
ENV TRANSSHIP_CONFIG=/etc/transship/transship.yaml \
    JAVA_HOME=/opt/transship/jre \
    JDK_JAVA_OPTIONS="-XX:MaxRAMPercentage=50" \
    PATH=/opt/transship/jre/bin:/usr/sbin:/usr/bin:/sbin:/bin
# numeric, so that runAsNonRoot can verify it; writes only to the data volume and /tmp
USER 65532:65532
WORKDIR /var/lib/transship
VOLUME ["/var/lib/transship"]
EXPOSE 5000 5001 5443
STOPSIGNAL SIGTERM
# heap from the container's memory limit (JDK_JAVA_OPTIONS above: replace it to change the share)
ENTRYPOINT ["/opt/transship/jre/bin/java", "-XX:+UseZGC", \
            "-XX:+ExitOnOutOfMemoryError", "--enable-native-access=ALL-UNNAMED", \
            "-jar", "/opt/transship/transship.jar"]
CMD ["serve"]
