package io.transship.oci;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** RFC 9110 section 14: Range requests against a representation of known length. */
class RangeRequestTest {

  private static List<ByteRange> ranges(RangeRequest request) {
    assertThat(request).isInstanceOf(RangeRequest.Partial.class);
    return ((RangeRequest.Partial) request).ranges();
  }

  @Test
  void noHeaderMeansTheWholeRepresentation() {
    assertThat(RangeRequest.parse(null, 100)).isInstanceOf(RangeRequest.Whole.class);
  }

  @Test
  void firstTwoBytes() {
    assertThat(ranges(RangeRequest.parse("bytes=0-1", 100))).containsExactly(new ByteRange(0, 1));
  }

  @Test
  void openEndedRangeRunsToTheLastByte() {
    assertThat(ranges(RangeRequest.parse("bytes=100-", 200)))
        .containsExactly(new ByteRange(100, 199));
  }

  @Test
  void suffixRangeSelectsTheLastBytes() {
    assertThat(ranges(RangeRequest.parse("bytes=-50", 100))).containsExactly(new ByteRange(50, 99));
  }

  @Test
  void suffixLongerThanTheRepresentationSelectsAllOfIt() {
    assertThat(ranges(RangeRequest.parse("bytes=-500", 100))).containsExactly(new ByteRange(0, 99));
  }

  @Test
  void lastPositionBeyondTheEndIsClippedToTheLastByte() {
    assertThat(ranges(RangeRequest.parse("bytes=10-1000", 100)))
        .containsExactly(new ByteRange(10, 99));
  }

  @Test
  void lastByteAloneIsSatisfiable() {
    assertThat(ranges(RangeRequest.parse("bytes=99-99", 100)))
        .containsExactly(new ByteRange(99, 99));
  }

  @Test
  void multipleRangesAreKeptInRequestOrder() {
    assertThat(ranges(RangeRequest.parse("bytes=50-59, 0-9,-5", 100)))
        .containsExactly(new ByteRange(50, 59), new ByteRange(0, 9), new ByteRange(95, 99));
  }

  @Test
  void unitNameIsCaseInsensitive() {
    assertThat(ranges(RangeRequest.parse("Bytes=0-1", 100))).containsExactly(new ByteRange(0, 1));
  }

  @Test
  void rangeStartingPastTheEndIsUnsatisfiable() {
    assertThat(RangeRequest.parse("bytes=500-600", 100))
        .isInstanceOf(RangeRequest.Unsatisfiable.class);
  }

  @Test
  void rangeStartingExactlyAtTheEndIsUnsatisfiable() {
    assertThat(RangeRequest.parse("bytes=100-", 100))
        .isInstanceOf(RangeRequest.Unsatisfiable.class);
  }

  @Test
  void zeroLengthSuffixIsUnsatisfiable() {
    assertThat(RangeRequest.parse("bytes=-0", 100)).isInstanceOf(RangeRequest.Unsatisfiable.class);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "bytes=abc",
        "bytes=5-2",
        "bytes=1-x",
        "bytes=x-1",
        "bytes=-",
        "bytes=",
        "bytes=0-1,garbage",
        "bytes=--5",
        "bytes 0-1",
        "0-1"
      })
  void syntacticallyInvalidHeaderIsIgnored(String header) {
    assertThat(RangeRequest.parse(header, 100)).isInstanceOf(RangeRequest.Whole.class);
  }

  @ParameterizedTest
  @ValueSource(strings = {"items=0-5", "none", "pages=1-2"})
  void otherRangeUnitsAreIgnored(String header) {
    assertThat(RangeRequest.parse(header, 100)).isInstanceOf(RangeRequest.Whole.class);
  }

  @Test
  void zeroLengthRepresentationHasNoSatisfiableIntRange() {
    RangeRequest request = RangeRequest.parse("bytes=0-", 0);

    // RFC 9110 allows 416 or ignoring the header (section 14.2); a 206 is impossible.
    assertThat(request).isNotInstanceOf(RangeRequest.Partial.class);
  }

  @Test
  void zeroLengthRepresentationWithSuffixRangeIsNotRefusedWith416() {
    RangeRequest request = RangeRequest.parse("bytes=-5", 0);

    // Regression (fixed): RFC 9110 section 14.1.2: "When a selected representation has zero length,
    // the only
    // satisfiable form of range-spec in a GET request is a suffix-range with a non-zero
    // suffix-length", and section 15.5.17 reserves 416 for a set with no satisfiable range. The
    // server may ignore Range on an empty representation (section 14.2), so the answer should be
    // Whole (200 with an empty body); parse() returns Unsatisfiable, which becomes a 416.
    assertThat(request).isInstanceOf(RangeRequest.Whole.class);
  }

  @Test
  void moreThanMaxRangesIsUnsatisfiable() {
    String header =
        "bytes="
            + IntStream.range(0, RangeRequest.MAX_RANGES + 1)
                .mapToObj(i -> i + "-" + i)
                .collect(Collectors.joining(","));

    assertThat(RangeRequest.parse(header, 10_000)).isInstanceOf(RangeRequest.Unsatisfiable.class);
  }

  @Test
  void exactlyMaxRangesIsServed() {
    String header =
        "bytes="
            + IntStream.range(0, RangeRequest.MAX_RANGES)
                .mapToObj(i -> i + "-" + i)
                .collect(Collectors.joining(","));

    assertThat(ranges(RangeRequest.parse(header, 10_000))).hasSize(RangeRequest.MAX_RANGES);
  }

  @Test
  void unsatisfiableMembersOfAMixedSetAreDropped() {
    assertThat(ranges(RangeRequest.parse("bytes=500-600,0-9,200-,90-", 100)))
        .containsExactly(new ByteRange(0, 9), new ByteRange(90, 99));
  }

  @Test
  void partialRangesAreImmutable() {
    List<ByteRange> ranges = ranges(RangeRequest.parse("bytes=0-1", 100));

    org.assertj.core.api.Assertions.assertThatThrownBy(() -> ranges.add(new ByteRange(2, 3)))
        .isInstanceOf(UnsupportedOperationException.class);
  }

  @Test
  void byteRangeReportsLengthAndContentRange() {
    ByteRange range = new ByteRange(10, 19);

    assertThat(range.length()).isEqualTo(10);
    assertThat(range.contentRange(100)).isEqualTo("bytes 10-19/100");
    assertThat(ByteRange.whole(100)).isEqualTo(new ByteRange(0, 99));
  }

  @Test
  void overlappingRangesCannotAmplifyTheBody() {
    long size = 1 << 20;
    String header =
        "bytes="
            + IntStream.range(0, RangeRequest.MAX_RANGES)
                .mapToObj(i -> "0-")
                .collect(Collectors.joining(","));
    assertThat(RangeRequest.parse(header, size)).isInstanceOf(RangeRequest.Whole.class);
    String nearlyAll =
        "bytes="
            + IntStream.range(0, RangeRequest.MAX_RANGES)
                .mapToObj(i -> "1-")
                .collect(Collectors.joining(","));
    assertThat(ranges(RangeRequest.parse(nearlyAll, size)))
        .containsExactly(new ByteRange(1, size - 1));
  }

  @Test
  void overlappingRangesAreCoalescedAndDisjointOnesKeepTheirOrder() {
    assertThat(ranges(RangeRequest.parse("bytes=50-149,0-99,300-310", 1000)))
        .containsExactly(new ByteRange(0, 149), new ByteRange(300, 310));
    assertThat(ranges(RangeRequest.parse("bytes=300-310,0-9", 1000)))
        .containsExactly(new ByteRange(300, 310), new ByteRange(0, 9));
  }
}
