package io.ferryhub.hub.service.c2d;

/** How a cloud-to-device message ended, as IoT Hub's feedback records name it. */
public enum FeedbackStatus {
    Success,
    Expired,
    DeliveryCountExceeded,
    Rejected,
    Purged
}
