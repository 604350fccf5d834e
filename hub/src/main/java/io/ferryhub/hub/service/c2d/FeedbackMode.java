package io.ferryhub.hub.service.c2d;

import io.ferryhub.common.error.HubErrorCode;
import io.ferryhub.common.error.HubException;

import java.util.Locale;

/** The feedback a sender asks for with {@code iothub-ack}. */
public enum FeedbackMode {
    none(false, false),
    positive(true, false),
    negative(false, true),
    full(true, true);

    private final boolean onSuccess;
    private final boolean onFailure;

    FeedbackMode(boolean onSuccess, boolean onFailure) {
        this.onSuccess = onSuccess;
        this.onFailure = onFailure;
    }

    /** Parses {@code iothub-ack}; absent means {@code none}. */
    public static FeedbackMode parse(String value) {
        if (value == null || value.isEmpty()) {
            return none;
        }
        try {
            return valueOf(value.toLowerCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new HubException(HubErrorCode.ArgumentInvalid,
                    "iothub-ack must be none, positive, negative or full, not '" + value + "'");
        }
    }

    /** Whether a message that ended with this outcome produces a feedback record. */
    boolean wants(FeedbackStatus status) {
        return status == FeedbackStatus.Success ? onSuccess : onFailure;
    }
}
