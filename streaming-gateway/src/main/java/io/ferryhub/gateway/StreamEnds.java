package io.ferryhub.gateway;

import io.ferryhub.signaling.StreamToken;

import java.util.OptionalLong;

/**
 * A stream's byte counts by end. The relay counts by arrival order (first and second end); the side of the first
 * end, when its token names one, turns those into device-to-service and service-to-device counts.
 */
public interface StreamEnds {
    /** The side of the end that connected first; null when its token names none (tokens of older hubs). */
    StreamToken.Side firstSide();

    long bytesFirstToSecond();

    long bytesSecondToFirst();

    /** What {@code side} sent, when the ends' sides are known. */
    default OptionalLong bytesSentBy(StreamToken.Side side) {
        StreamToken.Side first = firstSide();
        if (first == null) {
            return OptionalLong.empty();
        }
        return OptionalLong.of(first == side ? bytesFirstToSecond() : bytesSecondToFirst());
    }
}
