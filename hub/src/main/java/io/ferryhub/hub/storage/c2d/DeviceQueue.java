package io.ferryhub.hub.storage.c2d;

import io.ferryhub.hub.service.c2d.C2dMessage;
import java.util.List;

/**
 * A device's cloud-to-device queue as stored.
 *
 * @param deviceId the device it belongs to
 * @param generationId the generation of the device identity it belongs to: a device deleted and created again
 *                     with the same id does not inherit the old one's messages
 * @param nextSequenceNumber the sequence number the next message gets; kept when the queue empties so numbers
 *                           never repeat
 * @param messages           pending messages, oldest first
 */
public record DeviceQueue(String deviceId, String generationId, long nextSequenceNumber, List<C2dMessage> messages) {
    public DeviceQueue {
        messages = List.copyOf(messages);
    }
}
