package io.transship.converter;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.zip.CRC32;
import java.util.zip.GZIPOutputStream;
import java.util.zip.ZipException;

/**
 * A gzip decompressing stream backed by ISA-L's igzip inflater ({@code libisal.so.2}, Debian
 * package {@code libisal2}), called through the foreign function and memory API. It accepts and
 * rejects exactly what {@link ConcatenatedGzipInputStream} does, returns the same bytes, and
 * inflates 1.5 to 1.8 times as fast (bench/zstd/run.sh measures it).
 *
 * <p>Each member's header is parsed here, in Java, with the rules of {@code
 * ConcatenatedGzipInputStream}: magic, method 8, no reserved flag bits, FEXTRA, FNAME and FCOMMENT
 * skipped, FHCRC checked. Its deflate body and trailer go to {@code isal_inflate} in {@code
 * ISAL_GZIP_NO_HDR_VER} mode: ISA-L inflates, keeps the CRC-32 of the output, and at the end of the
 * body reads the 8-byte trailer and compares both its CRC-32 and its ISIZE (the output size modulo
 * 2<sup>32</sup>) with what it produced; a mismatch is {@code ISAL_INCORRECT_CHECKSUM}. (ISA-L 2.30
 * leaves the input right after the trailer in this mode. In raw {@code ISAL_GZIP_NO_HDR} mode it
 * would keep up to 8 bytes past the deflate data in its bit buffer, and the next member could not
 * be found without reading the struct's internals.)
 *
 * <p>Concatenated members (RFC 1952 section 2.2) are read as one stream, and the only accepted end
 * is the end of the input right after a member, as Go's gzip reader requires: anything else after a
 * member (trailing zeros included) is a {@link ZipException}. A corrupt header, deflate stream or
 * trailer is a {@code ZipException}; input that ends early is an {@link EOFException}. After an
 * error every read throws.
 *
 * <p>Memory is bounded and allocated once per stream from a confined {@link Arena}: the inflate
 * state (about 85 KiB), a 64 KiB input buffer and a 256 KiB output buffer, all freed by {@link
 * #close()}. Like any {@code InputStream}, an instance is for one thread: it must be read and
 * closed by the thread that opened it. Closing closes the source.
 *
 * <p>Use {@link GzipInput#open(InputStream)}, which falls back to {@code
 * ConcatenatedGzipInputStream} when the library is missing.
 */
final class NativeInflate extends InputStream {

  // ---------------------------------------------------------------------------------------------
  // struct inflate_state, from /usr/include/isa-l/igzip_lib.h of libisal-dev 2.30.0 (the struct is
  // unchanged from ISA-L 2.25 through 2.32; the soname libisal.so.2 is the ABI). A gcc program
  // printing sizeof(struct inflate_state) and offsetof() of each field below on x86_64 gave:
  //   sizeof(struct inflate_state)=87368 alignof=8
  //   next_out offset=0 size=8          avail_out offset=8 size=4     total_out offset=12 size=4
  //   next_in offset=16 size=8          read_in offset=24 size=8      avail_in offset=32 size=4
  //   read_in_length offset=36 size=4   lit_huff_code offset=40 size=18912
  //   dist_huff_code offset=18952 size=2208
  //   block_state offset=21160 size=4   dict_length offset=21164 size=4
  //   bfinal offset=21168 size=4        crc_flag offset=21172 size=4  crc offset=21176 size=4
  //   hist_bits offset=21180 size=4     (the rest: overflow counters, tmp_in_buffer[328],
  //                                      tmp_out_buffer[2 * 32768 + 288], up to 87368)
  //   sizeof(enum isal_block_state)=4
  // The layout below spells the fields this class touches and pads the rest; the static checks in
  // Library compare it with these numbers, and a self-test inflates a known member before the
  // library is ever used for real.
  // ---------------------------------------------------------------------------------------------

  /**
   * {@code sizeof(struct inflate_state)}, measured on x86_64; aarch64 (LP64, same alignment of
   * these types) should agree, and the self-test would catch it if it did not.
   */
  static final long STATE_SIZE = 87_368;

  static final long C_OFFSET_NEXT_OUT = 0;
  static final long C_OFFSET_AVAIL_OUT = 8;
  static final long C_OFFSET_NEXT_IN = 16;
  static final long C_OFFSET_AVAIL_IN = 32;
  static final long C_OFFSET_BLOCK_STATE = 21_160;
  static final long C_OFFSET_CRC_FLAG = 21_172;

  /** {@code sizeof(struct inflate_huff_code_large) + sizeof(struct inflate_huff_code_small)}. */
  private static final long HUFF_CODES_SIZE = 18_912 + 2_208;

  static final StructLayout INFLATE_STATE =
      MemoryLayout.structLayout(
              ADDRESS.withName("next_out"),
              JAVA_INT.withName("avail_out"),
              JAVA_INT.withName("total_out"),
              ADDRESS.withName("next_in"),
              JAVA_LONG.withName("read_in"),
              JAVA_INT.withName("avail_in"),
              JAVA_INT.withName("read_in_length"),
              MemoryLayout.paddingLayout(HUFF_CODES_SIZE), // lit_huff_code, dist_huff_code
              JAVA_INT.withName("block_state"), // enum isal_block_state
              JAVA_INT.withName("dict_length"),
              JAVA_INT.withName("bfinal"),
              JAVA_INT.withName("crc_flag"),
              JAVA_INT.withName("crc"),
              JAVA_INT.withName("hist_bits"),
              MemoryLayout.paddingLayout(STATE_SIZE - 21_184)) // overflow state, tmp buffers
          .withName("inflate_state");

  private static final long NEXT_OUT = INFLATE_STATE.byteOffset(groupElement("next_out"));
  private static final long AVAIL_OUT = INFLATE_STATE.byteOffset(groupElement("avail_out"));
  private static final long NEXT_IN = INFLATE_STATE.byteOffset(groupElement("next_in"));
  private static final long AVAIL_IN = INFLATE_STATE.byteOffset(groupElement("avail_in"));
  private static final long BLOCK_STATE = INFLATE_STATE.byteOffset(groupElement("block_state"));
  private static final long CRC_FLAG = INFLATE_STATE.byteOffset(groupElement("crc_flag"));

  // igzip_lib.h constants
  /**
   * {@code crc_flag}: deflate data without a gzip header, followed by the gzip trailer, which
   * {@code isal_inflate} checks against the CRC-32 and size of what it produced.
   */
  static final int ISAL_GZIP_NO_HDR_VER = 6;

  static final int ISAL_DECOMP_OK = 0;
  static final int ISAL_END_INPUT = 1;
  static final int ISAL_INVALID_BLOCK = -1;
  static final int ISAL_INVALID_SYMBOL = -2;
  static final int ISAL_INVALID_LOOKBACK = -3;
  static final int ISAL_INVALID_WRAPPER = -4;
  static final int ISAL_UNSUPPORTED_METHOD = -5;
  static final int ISAL_INCORRECT_CHECKSUM = -6;

  /** {@code enum isal_block_state}: all input decoded and all output flushed. */
  static final int ISAL_BLOCK_FINISH = 5;

  /** {@code enum isal_block_state}: waiting for the rest of the trailer. */
  static final int ISAL_CHECKSUM_CHECK = 12;

  /** A library name or path to load instead of the usual places ({@link #LIBRARY_NAMES}). */
  static final String LIBRARY_PROPERTY = "transship.isal.library";

  /** Tried in order; {@code dlopen} searches the loader's paths for a bare name. */
  static final List<String> LIBRARY_NAMES =
      List.of(
          "libisal.so.2",
          "/usr/lib/x86_64-linux-gnu/libisal.so.2",
          "/usr/lib/aarch64-linux-gnu/libisal.so.2",
          "/usr/lib64/libisal.so.2",
          "/usr/local/lib/libisal.so.2");

  static final int IN_SIZE = 64 * 1024;
  static final int OUT_SIZE = 256 * 1024;

  /**
   * Keep inflating into the output buffer until less than this is left: ISA-L writes small output
   * windows through its internal buffer, so calls are kept large.
   */
  private static final int MIN_OUT_SPACE = 64 * 1024;

  // RFC 1952 section 2.3.1, FLG bits
  private static final int FHCRC = 0x02;
  private static final int FEXTRA = 0x04;
  private static final int FNAME = 0x08;
  private static final int FCOMMENT = 0x10;
  private static final int FLG_RESERVED = 0xE0;
  private static final int CM_DEFLATE = 8;

  private final InputStream source;
  private final Arena arena;
  private final MemorySegment state;
  private final MemorySegment in;
  private final MemorySegment out;
  private final long inAddress;
  private final long outAddress;
  private final byte[] staging = new byte[IN_SIZE];
  private final CRC32 headerCrc = new CRC32();

  private int inPos;
  private int inLimit;
  private int outPos;
  private int outLimit;

  private long members;
  private boolean inMember;
  private boolean finished;
  private boolean closed;

  /** The error that broke the stream; later reads throw again instead of inflating further. */
  private IOException failure;

  /**
   * A stream over {@code source}, which is not read before the first read.
   *
   * @throws IllegalStateException if the library is not available ({@link #isAvailable()})
   */
  static NativeInflate open(InputStream source) {
    Objects.requireNonNull(source, "source");
    Library.require();
    return new NativeInflate(source);
  }

  private NativeInflate(InputStream source) {
    this.source = source;
    this.arena = Arena.ofConfined();
    try {
      this.state = arena.allocate(INFLATE_STATE);
      this.in = arena.allocate(IN_SIZE, 64);
      this.out = arena.allocate(OUT_SIZE, 64);
    } catch (RuntimeException | Error e) {
      arena.close();
      throw e;
    }
    this.inAddress = in.address();
    this.outAddress = out.address();
  }

  /** Whether {@code libisal.so.2} was found, linked and passed its self-test. */
  static boolean isAvailable() {
    return Library.FAILURE == null;
  }

  /** Why the library cannot be used, or null when it can. */
  static Throwable unavailableReason() {
    return Library.FAILURE;
  }

  /** What was loaded, for logs and the benchmark. */
  static String describe() {
    return isAvailable() ? "ISA-L igzip (" + Library.NAME + ")" : "unavailable: " + Library.FAILURE;
  }

  @Override
  public int read() throws IOException {
    ensureOpen();
    while (outPos == outLimit) {
      if (!fill()) {
        return -1;
      }
    }
    return out.get(JAVA_BYTE, outPos++) & 0xff;
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    Objects.checkFromIndexSize(off, len, b.length);
    ensureOpen();
    if (len == 0) {
      return 0;
    }
    while (outPos == outLimit) {
      if (!fill()) {
        return -1;
      }
    }
    int n = Math.min(len, outLimit - outPos);
    MemorySegment.copy(out, JAVA_BYTE, outPos, b, off, n);
    outPos += n;
    return n;
  }

  /** The decompressed bytes buffered here, which can be read without blocking. */
  @Override
  public int available() throws IOException {
    ensureOpen();
    return outLimit - outPos;
  }

  /** Frees the native memory and closes the source. Must be called by the opening thread. */
  @Override
  public void close() throws IOException {
    if (!closed) {
      closed = true;
      try {
        arena.close();
      } finally {
        source.close();
      }
    }
  }

  private void ensureOpen() throws IOException {
    if (closed) {
      throw new IOException("Stream closed");
    }
  }

  /** Refills the output buffer from its start; false at the end of the gzip stream. */
  private boolean fill() throws IOException {
    if (failure != null) {
      throw new IOException("gzip stream already failed: " + failure.getMessage(), failure);
    }
    outPos = 0;
    outLimit = 0;
    try {
      while (!finished) {
        if (!inMember) {
          if (members > 0 && !hasInput()) {
            finished = true; // the input ends right after a member: the only good ending
            break;
          }
          readHeader();
        }
        inflate();
        if (outLimit > 0) {
          return true;
        }
      }
      return false;
    } catch (IOException e) {
      outLimit = 0;
      failure = e;
      throw e;
    }
  }

  /**
   * Inflates the current member into the output buffer until the buffer is nearly full or the
   * member ends (its trailer is checked before any of its last bytes are handed out).
   */
  private void inflate() throws IOException {
    boolean needInput = false;
    while (true) {
      if (needInput && !refill()) {
        throw new EOFException(
            state.get(JAVA_INT, BLOCK_STATE) == ISAL_CHECKSUM_CHECK
                ? "gzip data ends inside the trailer of member " + members
                : "gzip data ends inside member " + members);
      }
      int inBefore = inPos;
      int outBefore = outLimit;
      state.set(JAVA_LONG, NEXT_IN, inAddress + inPos);
      state.set(JAVA_INT, AVAIL_IN, inLimit - inPos);
      state.set(JAVA_LONG, NEXT_OUT, outAddress + outLimit);
      state.set(JAVA_INT, AVAIL_OUT, OUT_SIZE - outLimit);
      int ret = Library.inflate(state);
      inPos = inLimit - state.get(JAVA_INT, AVAIL_IN);
      outLimit = OUT_SIZE - state.get(JAVA_INT, AVAIL_OUT);
      if (ret == ISAL_INCORRECT_CHECKSUM) {
        throw new ZipException("gzip member " + members + " fails its CRC32/ISIZE check");
      }
      if (ret != ISAL_DECOMP_OK) {
        throw new ZipException(
            "corrupt deflate data in gzip member " + members + ": " + errorName(ret));
      }
      if (state.get(JAVA_INT, BLOCK_STATE) == ISAL_BLOCK_FINISH) {
        inMember = false; // trailer read and verified; the input is right after it
        return;
      }
      if (OUT_SIZE - outLimit < MIN_OUT_SPACE) {
        return;
      }
      if (inPos == inLimit) {
        // ISA-L stops with room left in the output only when it needs input.
        needInput = true;
      } else if (inPos == inBefore && outLimit == outBefore) {
        throw new ZipException("deflate made no progress in gzip member " + members);
      } else {
        needInput = false;
      }
    }
  }

  /** Member header, RFC 1952 section 2.3 (ID1 ID2 CM FLG MTIME XFL OS, then optional fields). */
  private void readHeader() throws IOException {
    headerCrc.reset();
    if (headerByte() != 0x1f || headerByte() != 0x8b) {
      throw new ZipException(
          members == 0 ? "not in gzip format" : "unexpected data after gzip member " + members);
    }
    int method = headerByte();
    if (method != CM_DEFLATE) {
      throw new ZipException("unsupported gzip compression method " + method);
    }
    int flags = headerByte();
    if ((flags & FLG_RESERVED) != 0) {
      throw new ZipException("reserved gzip header flags are set");
    }
    skipHeaderBytes(6); // MTIME, XFL, OS
    if ((flags & FEXTRA) != 0) {
      skipHeaderBytes(headerByte() | headerByte() << 8);
    }
    if ((flags & FNAME) != 0) {
      skipZeroTerminated();
    }
    if ((flags & FCOMMENT) != 0) {
      skipZeroTerminated();
    }
    if ((flags & FHCRC) != 0) {
      int expected = (int) (headerCrc.getValue() & 0xffff);
      if ((readByte() | readByte() << 8) != expected) {
        throw new ZipException("gzip header CRC16 mismatch");
      }
    }
    Library.init(state);
    state.set(JAVA_INT, CRC_FLAG, ISAL_GZIP_NO_HDR_VER);
    inMember = true;
    members++;
  }

  private void skipZeroTerminated() throws IOException {
    while (headerByte() != 0) {
      // FNAME and FCOMMENT are not needed: skip them however long they are
    }
  }

  private void skipHeaderBytes(int count) throws IOException {
    for (int i = 0; i < count; i++) {
      headerByte();
    }
  }

  private int headerByte() throws IOException {
    int b = readByte();
    headerCrc.update(b);
    return b;
  }

  private int readByte() throws IOException {
    if (inPos == inLimit && !refill()) {
      throw new EOFException("gzip data ends inside the header of a member");
    }
    return in.get(JAVA_BYTE, inPos++) & 0xff;
  }

  private boolean hasInput() throws IOException {
    return inPos < inLimit || refill();
  }

  /** Replaces the (consumed) input buffer with the next bytes of the source; false at its end. */
  private boolean refill() throws IOException {
    int n;
    do {
      n = source.read(staging, 0, IN_SIZE);
    } while (n == 0);
    if (n < 0) {
      return false;
    }
    MemorySegment.copy(staging, 0, in, JAVA_BYTE, 0, n);
    inPos = 0;
    inLimit = n;
    return true;
  }

  static String errorName(int ret) {
    return switch (ret) {
      case ISAL_INVALID_BLOCK -> "invalid deflate block (ISAL_INVALID_BLOCK)";
      case ISAL_INVALID_SYMBOL -> "invalid deflate symbol (ISAL_INVALID_SYMBOL)";
      case ISAL_INVALID_LOOKBACK -> "invalid lookback distance (ISAL_INVALID_LOOKBACK)";
      case ISAL_INVALID_WRAPPER -> "invalid wrapper (ISAL_INVALID_WRAPPER)";
      case ISAL_UNSUPPORTED_METHOD -> "unsupported method (ISAL_UNSUPPORTED_METHOD)";
      case ISAL_INCORRECT_CHECKSUM -> "incorrect checksum (ISAL_INCORRECT_CHECKSUM)";
      default -> "isal_inflate returned " + ret;
    };
  }

  /**
   * The linked library: loaded, checked and self-tested once; FAILURE says why not. Loading it and
   * linking its functions are restricted methods, hence the JVM's {@code
   * --enable-native-access=ALL-UNNAMED} (surefire and the jar manifest set it).
   */
  @SuppressWarnings("restricted")
  private static final class Library {
    static final String NAME;
    private static final MethodHandle INFLATE_INIT;
    private static final MethodHandle INFLATE;
    static final Throwable FAILURE;

    static {
      MethodHandle init = null;
      MethodHandle inflate = null;
      Throwable failure = null;
      String name = null;
      try {
        checkLayout();
        String wanted = System.getProperty(LIBRARY_PROPERTY);
        List<String> names = wanted == null ? LIBRARY_NAMES : List.of(wanted);
        SymbolLookup lookup = null;
        for (String candidate : names) {
          try {
            // The global arena keeps the library loaded for the life of the JVM.
            lookup = SymbolLookup.libraryLookup(candidate, Arena.global());
            name = candidate;
            break;
          } catch (IllegalArgumentException e) { // not there under this name
            if (failure == null) {
              failure = e;
            }
          }
        }
        if (lookup == null) {
          throw failure;
        }
        failure = null;
        Linker linker = Linker.nativeLinker();
        init =
            linker.downcallHandle(
                lookup.findOrThrow("isal_inflate_init"), FunctionDescriptor.ofVoid(ADDRESS));
        inflate =
            linker.downcallHandle(
                lookup.findOrThrow("isal_inflate"), FunctionDescriptor.of(JAVA_INT, ADDRESS));
      } catch (Throwable t) { // absent library or symbol, restricted access, other platform
        failure = t;
      }
      NAME = name;
      INFLATE_INIT = init;
      INFLATE = inflate;
      if (failure == null) {
        try {
          selfTest();
        } catch (Throwable t) {
          failure = t;
        }
      }
      FAILURE = failure;
    }

    static void require() {
      if (FAILURE != null) {
        throw new IllegalStateException("ISA-L inflate is not available: " + FAILURE, FAILURE);
      }
    }

    static void init(MemorySegment state) {
      try {
        INFLATE_INIT.invokeExact(state);
      } catch (Throwable t) {
        throw new IllegalStateException("isal_inflate_init failed", t);
      }
    }

    static int inflate(MemorySegment state) {
      try {
        return (int) INFLATE.invokeExact(state);
      } catch (Throwable t) {
        throw new IllegalStateException("isal_inflate failed", t);
      }
    }

    /** The Java layout must agree with the C one, and this must be an LP64 platform. */
    private static void checkLayout() {
      if (ADDRESS.byteSize() != 8) {
        throw new UnsupportedOperationException("not a 64-bit platform");
      }
      long[][] expected = {
        {NEXT_OUT, C_OFFSET_NEXT_OUT},
        {AVAIL_OUT, C_OFFSET_AVAIL_OUT},
        {NEXT_IN, C_OFFSET_NEXT_IN},
        {AVAIL_IN, C_OFFSET_AVAIL_IN},
        {BLOCK_STATE, C_OFFSET_BLOCK_STATE},
        {CRC_FLAG, C_OFFSET_CRC_FLAG},
        {INFLATE_STATE.byteSize(), STATE_SIZE}
      };
      for (long[] pair : expected) {
        if (pair[0] != pair[1]) {
          throw new IllegalStateException(
              "inflate_state layout mismatch: " + Arrays.toString(pair));
        }
      }
    }

    /**
     * Inflates two small members, with output windows and input pieces that force ISA-L through its
     * stateful paths, and compares with the JDK: a library whose struct does not match the layout
     * above fails here instead of corrupting a layer.
     */
    private static void selfTest() throws IOException {
      byte[] plain = new byte[200_000];
      for (int i = 0; i < plain.length; i++) {
        plain[i] = (byte) ((i * 31 + (i >> 7)) % 251);
      }
      ByteArrayOutputStream gz = new ByteArrayOutputStream();
      for (int member = 0; member < 2; member++) {
        try (GZIPOutputStream gzip = new GZIPOutputStream(gz)) {
          gzip.write(plain);
        }
      }
      InputStream small =
          new java.io.ByteArrayInputStream(gz.toByteArray()) {
            @Override
            public synchronized int read(byte[] b, int off, int len) {
              return super.read(b, off, Math.min(len, 1000));
            }
          };
      byte[] got;
      try (NativeInflate inflate = new NativeInflate(small)) {
        got = inflate.readAllBytes();
      }
      byte[] want = new byte[plain.length * 2];
      System.arraycopy(plain, 0, want, 0, plain.length);
      System.arraycopy(plain, 0, want, plain.length, plain.length);
      if (!Arrays.equals(got, want)) {
        throw new IllegalStateException("ISA-L self-test: inflated bytes differ from the input");
      }
    }
  }
}
