package io.ferryhub.signaling;

import io.ferryhub.common.error.HubException;

/** A stream request the identity's stream policy refused: 403 with the error code of the check that failed. */
public final class StreamDeniedException extends HubException {
    private final transient StreamPolicy.Denial denial;

    public StreamDeniedException(StreamPolicy.Denial denial) {
        super(denial.check().errorCode(), denial.message());
        this.denial = denial;
    }

    public StreamPolicy.Denial denial() {
        return denial;
    }
}
