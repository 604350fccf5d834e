package io.ferryhub.common.error;

/**
 * IoT Hub's error codes: six digits, the HTTP status followed by a sub-code. The enum constant's name is what goes
 * in the {@code iothub-errorcode} header; the C# SDK requires that name to match the number in the body.
 */
public enum HubErrorCode {
    InvalidProtocolVersion(400001, "Invalid protocol version."),
    InvalidOperation(400003, "The operation is not valid."),
    ArgumentInvalid(400004, "An argument is invalid."),
    ArgumentNull(400005, "A required argument is missing."),
    IotHubFormatError(400006, "The request is malformed."),
    DeviceDefinedMultipleTimes(400011, "A device is defined more than once in the request."),
    BulkRegistryOperationFailure(400013, "One or more operations of the bulk request failed."),
    ConnectionForcefullyClosedOnNewConnection(400027, "Another client connected with the same identity."),
    IotHubUnauthorizedAccess(401002, "Unauthorized."),
    IotHubQuotaExceeded(403002, "Quota exceeded."),
    DeviceMaximumQueueDepthExceeded(403004, "Too many messages are queued for this device."),
    /** FerryHub's own (IoT Hub has no stream policies): the device's stream policy does not admit the caller. */
    StreamPolicyInitiatorDenied(403901, "The stream policy does not allow this shared access policy."),
    StreamPolicyNameDenied(403902, "The stream policy does not allow this stream name."),
    StreamPolicyTargetDenied(403903, "The stream policy does not allow this target."),
    StreamPolicyHoursDenied(403904, "The stream policy does not allow streams at this time."),
    DeviceNotFound(404001, "Device not found."),
    PartitionNotFound(404003, "Partition not found."),
    ModuleNotFound(404010, "Module not found."),
    /** The hub's own CA-certificate routes (Azure manages these through its management API, not IoT Hub's). */
    CertificateNotFound(404020, "Certificate not found."),
    DeviceNotOnline(404103, "The operation failed because the requested device isn't online."),
    DeviceConnectionClosedRemotely(404104, "The device connection was closed."),
    StreamNotFound(404105, "Stream not found."),
    /** FerryHub's own: the identity has no stream policy. */
    StreamPolicyNotFound(404901, "The identity has no stream policy."),
    /** FerryHub's own (Azure manages shared access policies through its management API, not IoT Hub's). */
    SharedAccessPolicyNotFound(404902, "The shared access policy does not exist."),
    /** FerryHub's own (IoT Hub edits its IP filter through Azure's management API): no rule of that name. */
    IpFilterRuleNotFound(404903, "IP filter rule not found."),
    DeviceAlreadyExists(409001, "A device with this id already exists."),
    LinkCreationConflict(409002, "A newer connection for this identity replaced this one."),
    ModuleAlreadyExistsOnDevice(409301, "A module with this id already exists on the device."),
    PreconditionFailed(412001, "The etag does not match."),
    DeviceMessageLockLost(412002, "The message lock was lost."),
    MessageTooLarge(413001, "The message is too large."),
    TooManyDevices(413002, "Too many devices in the request."),
    TooManyModulesOnDevice(413003, "Too many modules on the device."),
    ThrottlingException(429001, "Too many requests."),
    ServerError(500001, "Internal server error."),
    ServiceUnavailable(503001, "Service unavailable."),
    GatewayTimeout(504101, "Timed out waiting for the response from device.");

    private final int code;
    private final String defaultMessage;

    HubErrorCode(int code, String defaultMessage) {
        this.code = code;
        this.defaultMessage = defaultMessage;
    }

    /** The six-digit code, e.g. 404001. */
    public int code() {
        return code;
    }

    /** The HTTP status the code belongs to: its first three digits. */
    public int httpStatus() {
        return code / 1000;
    }

    public String defaultMessage() {
        return defaultMessage;
    }
}
