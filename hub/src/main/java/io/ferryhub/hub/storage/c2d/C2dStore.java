package io.ferryhub.hub.storage.c2d;

import io.ferryhub.hub.service.c2d.FeedbackRecord;
import java.io.IOException;
import java.util.List;
import java.util.Map;

/**
 * Durable storage of the cloud-to-device queues and of the feedback waiting for the service side. Every save
 * returns only once it is on stable storage. The embedded implementation is {@link FileC2dStore}; a database
 * backend would keep one row per message instead.
 */
public interface C2dStore {
    /** Every device's queue as last saved. */
    Map<String, DeviceQueue> loadQueues() throws IOException;

    /** Durably replaces one device's queue. */
    void saveQueue(DeviceQueue queue) throws IOException;

    /** Forgets a device's queue entirely (the device was deleted). */
    void deleteQueue(String deviceId) throws IOException;

    List<FeedbackRecord> loadFeedback() throws IOException;

    /** Durably replaces the feedback not yet completed by the service side. */
    void saveFeedback(List<FeedbackRecord> records) throws IOException;
}
