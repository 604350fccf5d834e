package io.ferryhub.common.error;

/**
 * A failure with an IoT Hub error code. Services throw it; adapters turn it into the protocol's error form
 * (an HTTP status with the IoT Hub error body, an MQTT CONNACK code, an AMQP error condition).
 */
public class HubException extends RuntimeException {
    private final HubErrorCode errorCode;

    public HubException(HubErrorCode errorCode, String message) {
        super(message == null ? errorCode.defaultMessage() : message);
        this.errorCode = errorCode;
    }

    public HubException(HubErrorCode errorCode) {
        this(errorCode, null);
    }

    public HubErrorCode errorCode() {
        return errorCode;
    }

    public int httpStatus() {
        return errorCode.httpStatus();
    }
}
