package io.transship.converter;

import io.transship.converter.RawTarEntry.Kind;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Which entries move to the front of an eStargz layer, before {@code .prefetch.landmark}, and in
 * what order (stargz-snapshotter docs/estargz.md "Prioritized Files and Landmark Files"; the
 * reference's {@code sortEntries}/{@code moveRec}): the listed files in list order, each preceded
 * by those of its parent directories that the layer holds (outermost first) and, for a hardlink, by
 * its target. Listed files the layer does not hold are skipped. Unlike the reference, a missing
 * parent directory entry does not make the file count as missing (upper layers often lack them).
 */
final class PrioritizedOrder {

  private final List<RawTarEntry> entries;
  private final Map<String, Integer> byName = new HashMap<>();
  private final LinkedHashSet<Integer> moved = new LinkedHashSet<>();
  private final Set<String> visiting = new HashSet<>();

  private PrioritizedOrder(List<RawTarEntry> entries) {
    this.entries = entries;
    for (int i = 0; i < entries.size(); i++) {
      byName.put(entries.get(i).cleanName(), i);
    }
  }

  /**
   * Indices into {@code entries} (names unique, as {@link LayerNames} ensures) of the entries to
   * write first, in the order to write them; empty when the layer holds none of the files.
   */
  static List<Integer> of(List<RawTarEntry> entries, List<String> prioritizedFiles) {
    PrioritizedOrder order = new PrioritizedOrder(entries);
    for (String file : prioritizedFiles) {
      String name = TarNames.clean(file);
      if (order.byName.containsKey(name)) {
        order.move(name);
      }
    }
    return new ArrayList<>(order.moved);
  }

  private void move(String name) {
    Integer index = byName.get(name);
    if (index != null && moved.contains(index)) {
      return;
    }
    if (!visiting.add(name)) {
      return; // a hardlink cycle; refused elsewhere, but never loop here
    }
    if (!name.isEmpty()) {
      move(TarNames.parent(name));
    }
    if (index != null) {
      RawTarEntry entry = entries.get(index);
      if (entry.kind() == Kind.HARDLINK) {
        move(TarNames.clean(entry.linkName()));
      }
      moved.add(index);
    }
    visiting.remove(name);
  }
}
