package io.transship.server.service;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.transship.oci.Digest;
import io.transship.oci.ManifestDocument;
import io.transship.storage.ObjectStore;
import io.transship.storage.SmallObjects;
import io.transship.storage.StorageKeys;
import java.io.IOException;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Manifests by digest and tag records, in the store with a bounded in-memory cache in front. A
 * storage failure is logged and treated as a miss: the proxy then serves from upstream.
 */
final class ManifestRepository {
  private static final Logger LOG = LoggerFactory.getLogger(ManifestRepository.class);

  private final ObjectStore store;
  private final SmallObjects objects;
  private final Cache<Digest, ManifestDocument> manifests =
      Caffeine.newBuilder()
          .maximumWeight(64L * 1024 * 1024)
          .<Digest, ManifestDocument>weigher((digest, doc) -> doc.size() + 200)
          .build();
  private final Cache<String, TagRecord> tags = Caffeine.newBuilder().maximumSize(100_000).build();

  ManifestRepository(ObjectStore store) {
    this.store = store;
    this.objects = new SmallObjects(store, ManifestDocument.MAX_BYTES);
  }

  Optional<ManifestDocument> get(Digest digest) {
    ManifestDocument cached = manifests.getIfPresent(digest);
    if (cached != null) {
      return Optional.of(cached);
    }
    try {
      Optional<byte[]> bytes = objects.getBytes(StorageKeys.manifest(digest));
      Optional<String> type = objects.getText(StorageKeys.manifestType(digest));
      if (bytes.isEmpty() || type.isEmpty()) {
        return Optional.empty();
      }
      if (!digest.matches(digest.newHasher().digest(bytes.get()))) {
        LOG.warn("stored manifest {} does not match its digest; ignoring it", digest);
        return Optional.empty();
      }
      ManifestDocument doc = new ManifestDocument(bytes.get(), type.get().trim(), digest);
      manifests.put(digest, doc);
      return Optional.of(doc);
    } catch (IOException e) {
      LOG.warn("cannot read manifest {} from storage: {}", digest, e.getMessage());
      return Optional.empty();
    }
  }

  /**
   * Told by the bounded store that {@code key} was evicted: a manifest the store no longer holds is
   * dropped from memory too, so the repository never answers for what storage lost.
   */
  void evicted(String key, long bytes) {
    StorageKeys.contentDigest(key)
        .filter(digest -> key.equals(StorageKeys.manifest(digest)))
        .ifPresent(manifests::invalidate);
  }

  void put(ManifestDocument doc) {
    manifests.put(doc.digest(), doc);
    try {
      // type first: a manifest is only readable once both keys exist
      objects.putText(StorageKeys.manifestType(doc.digest()), doc.mediaType());
      objects.putBytes(StorageKeys.manifest(doc.digest()), doc.bytes());
    } catch (IOException e) {
      LOG.warn("cannot store manifest {}: {}", doc.digest(), e.getMessage());
    }
  }

  Optional<TagRecord> tag(String alias, String repository, String tag) {
    String key = StorageKeys.tag(alias, repository, tag);
    TagRecord cached = tags.getIfPresent(key);
    if (cached != null) {
      return Optional.of(cached);
    }
    try {
      Optional<TagRecord> stored = objects.getBytes(key).map(TagRecord::decode);
      stored.ifPresent(record -> tags.put(key, record));
      return stored;
    } catch (IOException | RuntimeException e) {
      LOG.warn("cannot read tag record {}: {}", key, e.getMessage());
      return Optional.empty();
    }
  }

  void putTag(String alias, String repository, String tag, TagRecord record) {
    String key = StorageKeys.tag(alias, repository, tag);
    tags.put(key, record);
    try {
      objects.putBytes(key, record.encode());
    } catch (IOException e) {
      LOG.warn("cannot store tag record {}: {}", key, e.getMessage());
    }
  }

  void removeTag(String alias, String repository, String tag) {
    String key = StorageKeys.tag(alias, repository, tag);
    tags.invalidate(key);
    try {
      store.delete(key);
    } catch (IOException e) {
      LOG.warn("cannot delete tag record {}: {}", key, e.getMessage());
    }
  }
}
