package io.ferryhub.hub.service.auth;

import io.ferryhub.common.error.HubErrorCode;
import io.ferryhub.common.error.HubException;

import java.util.concurrent.CompletionException;
import java.util.regex.Pattern;

/**
 * A caller's credentials were refused. What the caller is told is IoT Hub's bare 401002 "Unauthorized", the same
 * whatever went wrong: telling an anonymous caller "device is not registered" or "unknown shared access policy"
 * would let it probe which device ids and policy names exist and how they authenticate. The reason is for the
 * hub's log only: {@link #reason()}, which transports log with the peer's address.
 */
public final class AuthenticationRefused extends HubException {
    private static final Pattern CONTROL = Pattern.compile("\\p{Cntrl}");
    private final String reason;

    public AuthenticationRefused(String reason) {
        super(HubErrorCode.IotHubUnauthorizedAccess);
        // reasons quote what the caller sent (a policy name, a host): no line breaks of its making in the log
        this.reason = reason == null ? null : CONTROL.matcher(reason).replaceAll("?");
    }

    /** Why the credentials were refused, for the log; never sent to the caller. */
    public String reason() {
        return reason;
    }

    /** What to log for a failure: a refusal's reason, or the failure's message. */
    public static String reasonOf(Throwable failure) {
        Throwable cause = failure instanceof CompletionException && failure.getCause() != null
                ? failure.getCause() : failure;
        return cause instanceof AuthenticationRefused refused ? refused.reason() : String.valueOf(cause.getMessage());
    }

    /** The reason alone: a refusal happens often and says all in one line. */
    @Override
    public synchronized Throwable fillInStackTrace() {
        return this;
    }
}
