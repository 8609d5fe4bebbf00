package org.apache.catalina.loader;

import java.net.URL;

/** Stand-in for Tomcat's ParallelWebappClassLoader. */
public class ParallelWebappClassLoader extends WebappClassLoaderBase {
    public ParallelWebappClassLoader(URL[] urls, ClassLoader parent) {
        super(urls, parent);
    }
}
