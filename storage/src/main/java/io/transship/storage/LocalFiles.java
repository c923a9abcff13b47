package io.transship.storage;

import java.nio.file.Path;
import java.util.Optional;

/**
 * Optional capability of stores whose objects are plain files on this machine: lets the HTTP edge
 * send them zero-copy ({@code sendfile}). A returned path stays readable while open even if the
 * object is evicted afterwards (POSIX unlink semantics).
 */
public interface LocalFiles {
  Optional<Path> localFile(String key);
}
