/* Realistic Kubernetes objects for the codec tests. They are written with
 * single quotes for readability; corpus_json() turns them into JSON. */
#include "tests/api/object/corpus.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char pod[] =
    "{'apiVersion':'v1','kind':'Pod','metadata':{'name':'web-7d4b9c6f5-x2x8k',"
    "'namespace':'default','uid':'6f1e2a3b-0c4d-4e5f-8a9b-0c1d2e3f4a5b',"
    "'resourceVersion':'123456','generation':1,"
    "'creationTimestamp':'2024-05-01T12:00:00Z',"
    "'labels':{'app':'web','pod-template-hash':'7d4b9c6f5',"
    "'tier':'frontend'},"
    "'annotations':{'kubectl.kubernetes.io/restartedAt':'2024-05-01T11:59:00Z',"
    "'note':'caf\\u00e9 \\u2603 \\ud83d\\ude00 <b>&amp;</b> \\\"quoted\\\"',"
    "'multi':'line one\\nline two\\n\\ttabbed\\n'},"
    "'ownerReferences':[{'apiVersion':'apps/v1','kind':'ReplicaSet',"
    "'name':'web-7d4b9c6f5','uid':'0a1b2c3d-0000-4000-8000-000000000001',"
    "'controller':true,'blockOwnerDeletion':true}]},"
    "'spec':{'containers':[{'name':'nginx','image':'nginx:1.25',"
    "'ports':[{'containerPort':80,'protocol':'TCP','name':'http'}],"
    "'env':[{'name':'MODE','value':'production'},{'name':'EMPTY','value':''},"
    "{'name':'YES','value':'yes'},{'name':'NUM','value':'0755'},"
    "{'name':'POD_IP','valueFrom':{'fieldRef':{'fieldPath':'status.podIP'}}}],"
    "'resources':{'limits':{'cpu':'500m','memory':'128Mi'},"
    "'requests':{'cpu':'250m','memory':'64Mi'}},"
    "'readinessProbe':{'httpGet':{'path':'/healthz','port':80},"
    "'initialDelaySeconds':5,'periodSeconds':10},"
    "'volumeMounts':[{'name':'data','mountPath':'/data','readOnly':false}],"
    "'terminationMessagePath':'/dev/termination-log',"
    "'imagePullPolicy':'IfNotPresent'}],"
    "'volumes':[{'name':'data','emptyDir':{}}],'restartPolicy':'Always',"
    "'terminationGracePeriodSeconds':30,'dnsPolicy':'ClusterFirst',"
    "'nodeName':'node-1','tolerations':[],'securityContext':{}},"
    "'status':{'phase':'Running','podIP':'10.244.1.7',"
    "'conditions':[{'type':'Ready','status':'True',"
    "'lastTransitionTime':'2024-05-01T12:00:05Z','lastProbeTime':null}],"
    "'containerStatuses':[{'name':'nginx','ready':true,'restartCount':0,"
    "'state':{'running':{'startedAt':'2024-05-01T12:00:03Z'}}}]}}";

static const char deployment[] =
    "{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'web',"
    "'namespace':'default','labels':{'app':'web'}},'spec':{'replicas':3,"
    "'revisionHistoryLimit':10,'progressDeadlineSeconds':600,"
    "'selector':{'matchLabels':{'app':'web'},'matchExpressions':[{'key':"
    "'tier','operator':'In','values':['frontend','edge']}]},"
    "'strategy':{'type':'RollingUpdate','rollingUpdate':{'maxSurge':'25%',"
    "'maxUnavailable':1}},'template':{'metadata':{'labels':{'app':'web'}},"
    "'spec':{'containers':[{'name':'nginx','image':'nginx:1.25',"
    "'args':['--port=80','--verbose','-v','2'],"
    "'command':['/docker-entrypoint.sh','nginx','-g','daemon off;']}]}}},"
    "'status':{'replicas':3,'readyReplicas':3,'observedGeneration':2}}";

static const char service[] =
    "{'apiVersion':'v1','kind':'Service','metadata':{'name':'web',"
    "'namespace':'default'},'spec':{'type':'NodePort',"
    "'clusterIP':'10.96.12.34','clusterIPs':['10.96.12.34'],"
    "'ipFamilies':['IPv4'],'ipFamilyPolicy':'SingleStack',"
    "'selector':{'app':'web'},'sessionAffinity':'None',"
    "'ports':[{'name':'http','port':80,'targetPort':'http','nodePort':30080,"
    "'protocol':'TCP'},{'name':'metrics','port':9090,'targetPort':9090}]},"
    "'status':{'loadBalancer':{}}}";

static const char crd_like[] =
    "{'apiVersion':'example.com/v1alpha1','kind':'Matrix','metadata':"
    "{'name':'m1','namespace':'lab'},'spec':{'rows':[[1,2,3],[4.5,-0.25,"
    "1e-7],[],[[true,false,null]]],'weights':[0.1,0.2,0.30000000000000004,"
    "1.7976931348623157e308,-2.2250738585072014e-308,5e-324],"
    "'limits':{'min':-9223372036854775808,'max':9223372036854775807,"
    "'zero':0,'negzero':-0.0,'one':1.0},"
    "'tree':{'a':{'b':{'c':{'d':{'e':['deep',{'f':'leaf'}]}}}}},"
    "'empty':{'map':{},'list':[],'str':''},"
    "'text':'\\u0001\\u001f\\u007f \\\\ / \\b\\f\\n\\r\\t \\u2028\\u2029',"
    "'looksTyped':['true','null','1.5','0x1F','~','yes','on','2024-01-02',"
    "'1:20','<<','-','- item','key: value','# hash','@at','`tick',"
    "'  leading',' trailing ','*star','&amp','!bang','%pct','{brace}','[b]',"
    "'|pipe','>gt','?q',',comma','1_000','+1','.5','-.inf','.nan']}}";

static const char *const docs[] = {pod, deployment, service, crd_like};
static const char *const names[] = {"pod", "deployment", "service", "crd",
                                    "configmap"};

size_t corpus_count(void)
{
    return sizeof docs / sizeof docs[0] + 1;
}

const char *corpus_name(size_t i)
{
    return names[i];
}

/* A ConfigMap with 600 data keys: exercises the hash index of big maps. */
static char *configmap(void)
{
    size_t cap = 128 * 1024, len = 0;
    char *s = malloc(cap);

    if (s == NULL)
        abort();
    len += (size_t)snprintf(s + len, cap - len,
                            "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\","
                            "\"metadata\":{\"name\":\"big\",\"namespace\":"
                            "\"default\"},\"data\":{");
    for (int i = 0; i < 600; i++)
        len += (size_t)snprintf(s + len, cap - len,
                                "%s\"key-%04d.conf\":\"value %d\\nline 2\"",
                                i ? "," : "", i, i * 7);
    (void)snprintf(s + len, cap - len, "}}");
    return s;
}

char *corpus_json(size_t i)
{
    char *s;

    if (i == sizeof docs / sizeof docs[0])
        return configmap();
    s = strdup(docs[i]);
    if (s == NULL)
        abort();
    for (char *p = s; *p; p++)
        if (*p == '\'')
            *p = '"';
    return s;
}
