package io.ferryhub.hub.adapter.mqtt;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.ferryhub.hub.service.auth.AuthenticatedDevice;
import org.junit.jupiter.api.Test;

class TopicAclTest {
    private static final TopicAcl DEVICE = new TopicAcl(new AuthenticatedDevice("d1", null, "sas", "1", Long.MAX_VALUE));
    private static final TopicAcl MODULE = new TopicAcl(new AuthenticatedDevice("d1", "m1", "sas", "1", Long.MAX_VALUE));

    @Test
    void aDeviceUsesItsOwnSpaceAndIotHubTopicsOnly() {
        assertTrue(DEVICE.mayPublish("devices/d1/messages/events/"));
        assertTrue(DEVICE.mayPublish("$iothub/twin/GET/?$rid=1"));
        assertFalse(DEVICE.mayPublish("devices/d2/messages/events/"));
        assertFalse(DEVICE.mayPublish("devices/d1x/messages/events/"), "a device id prefix is not the device");
        assertFalse(DEVICE.mayPublish("devices/d1"), "the space is under devices/d1/");
        assertFalse(DEVICE.mayPublish("other/topic"));
        assertTrue(DEVICE.maySubscribe("devices/d1/messages/devicebound/#"));
        assertTrue(DEVICE.maySubscribe("$iothub/methods/POST/#"));
        assertFalse(DEVICE.maySubscribe("devices/+/messages/devicebound/#"));
        assertFalse(DEVICE.maySubscribe("#"));
    }

    @Test
    void aDeviceCannotReachIntoItsModulesSpace() {
        assertFalse(DEVICE.mayPublish("devices/d1/modules/m1/messages/events/"));
        assertFalse(DEVICE.maySubscribe("devices/d1/modules/m1/#"));
    }

    @Test
    void aModuleUsesOnlyItsOwnModuleSpace() {
        assertTrue(MODULE.mayPublish("devices/d1/modules/m1/messages/events/"));
        assertFalse(MODULE.mayPublish("devices/d1/messages/events/"));
        assertFalse(MODULE.mayPublish("devices/d1/modules/m2/messages/events/"));
        assertTrue(MODULE.maySubscribe("devices/d1/modules/m1/messages/devicebound/#"));
    }

    @Test
    void wildcardsAreNeverPartOfATopicNameAndFiltersMustBeWellFormed() {
        assertFalse(DEVICE.mayPublish("devices/d1/messages/events/#"));
        assertFalse(DEVICE.mayPublish("devices/d1/+/events/"));
        assertFalse(DEVICE.maySubscribe("devices/d1/messages/#/x"));
        assertFalse(DEVICE.maySubscribe("$iothub/methods/POST/a#"));
    }
}
