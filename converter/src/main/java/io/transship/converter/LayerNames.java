package io.transship.converter;

import io.transship.converter.RawTarEntry.Kind;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * The names of a layer's entries, to refuse what the estargz reader cannot open. Its {@code
 * Reader.initFields} keys entries by cleaned name, so a name appearing twice would leave one of the
 * two unreachable through the TOC (and the reference writer drops the earlier one, changing the
 * tar); and it fails the whole blob when a hardlink names a file that is not in the layer.
 */
final class LayerNames {

  private final Set<String> names = new HashSet<>();
  private final Map<String, String> hardlinks = new HashMap<>();

  /** Records an entry; a second entry with the same cleaned name is refused. */
  void add(RawTarEntry entry) throws UnsupportedLayerException {
    if (!names.add(entry.cleanName())) {
      throw new UnsupportedLayerException(
          "duplicate entry \""
              + entry.name()
              + "\" not supported: an eStargz TOC is keyed by name");
    }
    if (entry.kind() == Kind.HARDLINK) {
      hardlinks.put(entry.cleanName(), TarNames.clean(entry.linkName()));
    }
  }

  /** Every hardlink must lead, possibly through other hardlinks, to an entry of this layer. */
  void checkHardlinks() throws UnsupportedLayerException {
    for (Map.Entry<String, String> link : hardlinks.entrySet()) {
      String target = link.getValue();
      for (int steps = 0; ; steps++) {
        if (!names.contains(target)) {
          throw new UnsupportedLayerException(
              "hardlink " + link.getKey() + " points to " + target + ", which is not in the layer");
        }
        String next = hardlinks.get(target);
        if (next == null) {
          break;
        }
        if (steps > hardlinks.size()) {
          throw new UnsupportedLayerException("hardlink cycle through " + link.getKey());
        }
        target = next;
      }
    }
  }
}
