package io.transship.converter;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.List;
import java.util.Optional;

/**
 * DEFLATE with libdeflate (whole-buffer compression; libdeflate.h: {@code
 * libdeflate_alloc_compressor}, {@code libdeflate_deflate_compress}, {@code
 * libdeflate_deflate_compress_bound}, {@code libdeflate_free_compressor}) through the foreign
 * function API. Faster than zlib and smaller at the same level; its output is a function of the
 * input, the level and the libdeflate version. Each encoder owns one compressor and two native
 * buffers that grow to the largest member it has seen.
 */
final class LibdeflateEncoder extends GzipMemberEncoder {

  private static final List<String> LIBRARY_NAMES =
      List.of(
          "libdeflate.so.0",
          "/usr/lib/x86_64-linux-gnu/libdeflate.so.0",
          "/usr/lib/aarch64-linux-gnu/libdeflate.so.0",
          "libdeflate.so",
          "libdeflate.0.dylib",
          "libdeflate.dylib");

  private static final Functions FUNCTIONS = load().orElse(null);

  private final Arena arena = Arena.ofShared();
  private final MemorySegment compressor;
  private MemorySegment in = MemorySegment.NULL;
  private MemorySegment out = MemorySegment.NULL;

  LibdeflateEncoder(int level) {
    super(level);
    if (FUNCTIONS == null) {
      throw new IllegalStateException("libdeflate is not available");
    }
    try {
      compressor = (MemorySegment) FUNCTIONS.alloc.invokeExact(level);
    } catch (Throwable t) {
      throw new IllegalStateException("libdeflate_alloc_compressor failed", t);
    }
    if (compressor.equals(MemorySegment.NULL)) {
      arena.close();
      throw new IllegalStateException("libdeflate_alloc_compressor(" + level + ") returned NULL");
    }
  }

  /** Whether the library could be loaded on this machine. */
  static boolean available() {
    return FUNCTIONS != null;
  }

  @Override
  byte[] deflate(byte[] data, int offset, int length, int before, int after) {
    try {
      long bound = (long) FUNCTIONS.bound.invokeExact(compressor, (long) length);
      if (in.byteSize() < length) {
        in = arena.allocate(grown(in, length));
      }
      if (out.byteSize() < bound) {
        out = arena.allocate(grown(out, bound));
      }
      MemorySegment.copy(data, offset, in, JAVA_BYTE, 0, length);
      long written =
          (long) FUNCTIONS.compress.invokeExact(compressor, in, (long) length, out, out.byteSize());
      if (written <= 0) {
        throw new IllegalStateException("libdeflate_deflate_compress returned " + written);
      }
      byte[] member = new byte[before + (int) written + after];
      MemorySegment.copy(out, JAVA_BYTE, 0, member, before, (int) written);
      return member;
    } catch (RuntimeException | Error e) {
      throw e;
    } catch (Throwable t) {
      throw new IllegalStateException(t);
    }
  }

  /** At least twice the old size, so the buffers left behind in the arena add up to little. */
  private static long grown(MemorySegment old, long needed) {
    return Math.max(needed, Math.max(64 * 1024, 2 * old.byteSize()));
  }

  @Override
  public void close() {
    try {
      FUNCTIONS.free.invokeExact(compressor);
    } catch (Throwable t) {
      throw new IllegalStateException(t);
    } finally {
      arena.close(); // the buffers; earlier, smaller ones stay until here too
    }
  }

  private record Functions(
      MethodHandle alloc, MethodHandle compress, MethodHandle bound, MethodHandle free) {}

  private static Optional<Functions> load() {
    Linker linker;
    try {
      linker = Linker.nativeLinker();
    } catch (UnsupportedOperationException | IllegalCallerException e) {
      return Optional.empty();
    }
    for (String name : LIBRARY_NAMES) {
      try {
        SymbolLookup lookup = SymbolLookup.libraryLookup(name, Arena.global());
        MemorySegment alloc = lookup.find("libdeflate_alloc_compressor").orElseThrow();
        MemorySegment compress = lookup.find("libdeflate_deflate_compress").orElseThrow();
        MemorySegment bound = lookup.find("libdeflate_deflate_compress_bound").orElseThrow();
        MemorySegment free = lookup.find("libdeflate_free_compressor").orElseThrow();
        return Optional.of(
            new Functions(
                linker.downcallHandle(alloc, FunctionDescriptor.of(ADDRESS, JAVA_INT)),
                linker.downcallHandle(
                    compress,
                    FunctionDescriptor.of(
                        JAVA_LONG, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG)),
                linker.downcallHandle(bound, FunctionDescriptor.of(JAVA_LONG, ADDRESS, JAVA_LONG)),
                linker.downcallHandle(free, FunctionDescriptor.ofVoid(ADDRESS))));
      } catch (RuntimeException e) {
        // not there, or not this name: try the next
      }
    }
    return Optional.empty();
  }
}
