package org.apache.catalina.session;

/** Stand-in for Tomcat's StandardManager. */
public class StandardManager extends ManagerBase {
}
