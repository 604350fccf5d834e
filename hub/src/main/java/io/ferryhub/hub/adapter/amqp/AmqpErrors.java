package io.ferryhub.hub.adapter.amqp;

import io.ferryhub.common.error.HubErrorCode;
import io.ferryhub.common.error.HubException;
import org.apache.qpid.proton.amqp.Symbol;
import org.apache.qpid.proton.amqp.transport.ErrorCondition;

import java.util.Map;
import java.util.concurrent.CompletionException;

/** IoT Hub's errors as AMQP error conditions, with the numeric IoT Hub code in the info map as the hub sends it. */
final class AmqpErrors {
    static final Symbol UNAUTHORIZED = Symbol.valueOf("amqp:unauthorized-access");
    static final Symbol NOT_FOUND = Symbol.valueOf("amqp:not-found");
    static final Symbol INTERNAL = Symbol.valueOf("amqp:internal-error");
    static final Symbol NOT_ALLOWED = Symbol.valueOf("amqp:not-allowed");
    static final Symbol STOLEN = Symbol.valueOf("amqp:link:stolen");
    static final Symbol RESOURCE_LIMIT = Symbol.valueOf("amqp:resource-limit-exceeded");
    private static final Symbol STATUS_CODE = Symbol.valueOf("status-code");

    private AmqpErrors() {
    }

    static ErrorCondition of(HubErrorCode code, String description) {
        ErrorCondition condition = new ErrorCondition(symbolOf(code), description == null ? code.defaultMessage()
                : description);
        condition.setInfo(Map.of(STATUS_CODE, code.code()));
        return condition;
    }

    static ErrorCondition of(Throwable failure) {
        Throwable cause = failure instanceof CompletionException && failure.getCause() != null
                ? failure.getCause() : failure;
        if (cause instanceof HubException e) {
            return of(e.errorCode(), e.getMessage());
        }
        return of(HubErrorCode.ServerError, "Internal server error");
    }

    private static Symbol symbolOf(HubErrorCode code) {
        return switch (code) {
            case IotHubUnauthorizedAccess -> UNAUTHORIZED;
            case DeviceNotFound, ModuleNotFound, PartitionNotFound, DeviceNotOnline -> NOT_FOUND;
            case MessageTooLarge -> Symbol.valueOf("amqp:link:message-size-exceeded");
            case DeviceMaximumQueueDepthExceeded, IotHubQuotaExceeded -> RESOURCE_LIMIT;
            case ThrottlingException -> Symbol.valueOf("com.microsoft:device-container-throttled");
            case DeviceMessageLockLost -> Symbol.valueOf("com.microsoft:message-lock-lost");
            case ArgumentInvalid, ArgumentNull, IotHubFormatError -> Symbol.valueOf("com.microsoft:argument-error");
            case InvalidOperation -> NOT_ALLOWED;
            case LinkCreationConflict, ConnectionForcefullyClosedOnNewConnection ->
                    STOLEN;
            case ServiceUnavailable -> Symbol.valueOf("com.microsoft:server-busy");
            default -> INTERNAL;
        };
    }
}
